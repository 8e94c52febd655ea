/**
 * Deterministic sample databases. Every table has its own seeded PRNG and all
 * timestamps are offsets back from the emulator's fixed "now", so
 * `where Timestamp > ago(1h)` returns the same rows on every run.
 *
 * Databases: Samples (StormEvents, PopulationData), AppTelemetry (Requests,
 * Traces, Exceptions), Metrics (Perf, Heartbeat, PerfHistory — 100,000 rows,
 * built on first use for memory benchmarks).
 */
import type { DatabaseDefinition, TableDefinition } from './catalog.ts';
import type { KqlValue, Row } from './kql-types.ts';

/** 2024-06-01T12:00:00Z: the emulator's default `now()`. */
export const DEFAULT_NOW = Date.UTC(2024, 5, 1, 12, 0, 0);

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** mulberry32: tiny, fast, good enough for sample data. */
export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]) => items[Math.floor(next() * items.length)] as T,
    chance: (p) => next() < p,
    hex: (length) => {
      let s = '';
      for (let i = 0; i < length; i++) s += Math.floor(next() * 16).toString(16);
      return s;
    },
    guid: () => {
      const h = () => Math.floor(next() * 16).toString(16);
      const part = (n: number) => Array.from({ length: n }, h).join('');
      return `${part(8)}-${part(4)}-4${part(3)}-${'89ab'[Math.floor(next() * 4)]}${part(3)}-${part(12)}`;
    },
  };
}

export interface Random {
  next(): number;
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
  hex(length: number): string;
  guid(): string;
}

const STATES: ReadonlyArray<readonly [string, number, number, number]> = [
  // name, approximate latitude, longitude, population
  ['TEXAS', 31.0, -99.0, 29_145_505], ['KANSAS', 38.5, -98.0, 2_937_880], ['IOWA', 42.0, -93.5, 3_190_369],
  ['ILLINOIS', 40.0, -89.0, 12_812_508], ['MISSOURI', 38.5, -92.5, 6_154_913], ['GEORGIA', 32.7, -83.5, 10_711_908],
  ['MINNESOTA', 46.0, -94.5, 5_706_494], ['WISCONSIN', 44.5, -89.5, 5_893_718], ['NEBRASKA', 41.5, -99.8, 1_961_504],
  ['NEW YORK', 42.9, -75.5, 20_201_249], ['NORTH CAROLINA', 35.5, -79.4, 10_439_388], ['OKLAHOMA', 35.6, -97.5, 3_959_353],
  ['PENNSYLVANIA', 40.9, -77.8, 13_002_700], ['VIRGINIA', 37.5, -78.8, 8_631_393], ['COLORADO', 39.0, -105.5, 5_773_714],
  ['FLORIDA', 28.6, -82.4, 21_538_187], ['CALIFORNIA', 37.2, -119.5, 39_538_223], ['ALABAMA', 32.8, -86.8, 5_024_279],
  ['OHIO', 40.3, -82.8, 11_799_448], ['WASHINGTON', 47.4, -120.5, 7_705_281], ['ATLANTIC SOUTH', 31.0, -79.0, 0],
  ['GULF OF MEXICO', 27.5, -90.0, 0], ['LAKE MICHIGAN', 44.0, -87.0, 0], ['ARIZONA', 34.3, -111.7, 7_151_502],
];

const EVENT_TYPES = ['Thunderstorm Wind', 'Hail', 'Flash Flood', 'Drought', 'Winter Weather', 'Winter Storm', 'Heavy Snow',
  'High Wind', 'Flood', 'Tornado', 'Heavy Rain', 'Marine Thunderstorm Wind', 'Lightning', 'Dense Fog', 'Frost/Freeze',
  'Excessive Heat', 'Wildfire', 'Strong Wind', 'Funnel Cloud', 'Waterspout'];
const STORM_SOURCES = ['Trained Spotter', 'Public', 'Emergency Manager', 'Law Enforcement', 'COOP Observer', 'Mesonet',
  'NWS Storm Survey', 'ASOS', 'Broadcast Media', 'Newspaper', 'Department of Highways', 'AWOS', 'Social Media'];
const TOWNS = ['MELBOURNE BEACH', 'EUSTIS', 'BALDWIN', 'PARK CITY', 'SPRINGFIELD', 'FRANKLIN', 'CLINTON', 'GREENVILLE',
  'FAIRVIEW', 'SALEM', 'MADISON', 'GEORGETOWN', 'ARLINGTON', 'ASHLAND', 'DOVER', 'OXFORD', 'JACKSON', 'BURLINGTON',
  'MANCHESTER', 'MILTON', 'NEWPORT', 'AUBURN', 'DAYTON', 'LEXINGTON'];

function stormEvents(now: number): TableDefinition {
  return {
    name: 'StormEvents',
    folder: 'Storm_Events',
    docString: 'US storm events: one row per event, like the public help cluster sample (timestamps shifted to the last 60 days).',
    columns: [
      { name: 'StartTime', type: 'datetime', docString: 'When the event began (UTC).' },
      { name: 'EndTime', type: 'datetime', docString: 'When the event ended (UTC).' },
      { name: 'EpisodeId', type: 'int', docString: 'Identifier of the storm episode; several events share one episode.' },
      { name: 'EventId', type: 'int', docString: 'Unique identifier of the event.' },
      { name: 'State', type: 'string', docString: 'US state or marine zone, upper case.' },
      { name: 'EventType', type: 'string', docString: 'Kind of weather event, e.g. Hail or Tornado.' },
      { name: 'InjuriesDirect', type: 'int', docString: 'Injuries directly caused by the event.' },
      { name: 'InjuriesIndirect', type: 'int', docString: 'Injuries indirectly caused by the event.' },
      { name: 'DeathsDirect', type: 'int', docString: 'Deaths directly caused by the event.' },
      { name: 'DeathsIndirect', type: 'int', docString: 'Deaths indirectly caused by the event.' },
      { name: 'DamageProperty', type: 'long', docString: 'Estimated property damage in USD.' },
      { name: 'DamageCrops', type: 'long', docString: 'Estimated crop damage in USD.' },
      { name: 'Source', type: 'string', docString: 'Who reported the event.' },
      { name: 'BeginLocation', type: 'string' },
      { name: 'EndLocation', type: 'string' },
      { name: 'BeginLat', type: 'real', docString: 'Latitude where the event began; null for area-wide events.' },
      { name: 'BeginLon', type: 'real', docString: 'Longitude where the event began; null for area-wide events.' },
      { name: 'EndLat', type: 'real' },
      { name: 'EndLon', type: 'real' },
      { name: 'EpisodeNarrative', type: 'string' },
      { name: 'EventNarrative', type: 'string' },
      { name: 'StormSummary', type: 'dynamic', docString: 'Summary as a property bag: TotalDamages, StartTime, EndTime, Details.' },
    ],
    rows: () => {
      const r = createRandom(0x5707);
      const rows: Row[] = [];
      let episode = 4000;
      for (let i = 0; i < 3000; i++) {
        if (r.chance(0.35)) episode += r.int(1, 7);
        const [state, lat, lon] = r.pick(STATES);
        const eventType = r.pick(EVENT_TYPES);
        const start = now - Math.floor(r.next() * 60 * 24 * 60) * MINUTE;
        const end = start + r.int(0, 360) * MINUTE;
        const areaWide = eventType === 'Drought' || eventType === 'Winter Weather' || eventType === 'Excessive Heat';
        const injuries = r.chance(0.06) ? r.int(1, 25) : 0;
        const deaths = r.chance(0.015) ? r.int(1, 4) : 0;
        const damage = r.chance(0.3) ? r.int(1, 5000) * 1000 : 0;
        const crops = r.chance(0.08) ? r.int(1, 800) * 1000 : 0;
        const from = r.pick(TOWNS);
        const to = r.chance(0.7) ? from : r.pick(TOWNS);
        const beginLat = areaWide ? null : round4(lat + (r.next() - 0.5) * 3);
        const beginLon = areaWide ? null : round4(lon + (r.next() - 0.5) * 3);
        const narrative = `${eventType} reported near ${from}, ${state} by ${r.pick(STORM_SOURCES).toLowerCase()}.`;
        rows.push([
          start, end, episode, 10_000 + i, state, eventType, injuries, r.chance(0.02) ? r.int(1, 5) : 0, deaths,
          r.chance(0.01) ? 1 : 0, damage, crops, r.pick(STORM_SOURCES), from, to, beginLat, beginLon,
          beginLat === null ? null : round4(beginLat + (r.next() - 0.5) * 0.2),
          beginLon === null ? null : round4(beginLon + (r.next() - 0.5) * 0.2),
          `A line of storms moved across ${state.toLowerCase()} during the episode.`,
          narrative,
          {
            TotalDamages: damage + crops,
            StartTime: new Date(start).toISOString(),
            EndTime: new Date(end).toISOString(),
            Details: { Description: narrative, Location: state },
          },
        ]);
      }
      return rows;
    },
  };
}

function populationData(): TableDefinition {
  return {
    name: 'PopulationData',
    folder: 'Reference',
    docString: 'Population of US states (2020 census), for joins and lookups.',
    columns: [
      { name: 'State', type: 'string', docString: 'US state, upper case.' },
      { name: 'Population', type: 'long', docString: 'Number of residents.' },
    ],
    rows: STATES.filter(([, , , p]) => p > 0).map(([state, , , population]) => [state, population]),
  };
}

const ROLES = ['orders-api', 'payments-api', 'web-frontend', 'inventory-worker'];
const OPERATIONS = ['GET /api/orders', 'GET /api/orders/{id}', 'POST /api/orders', 'POST /api/payments',
  'GET /api/inventory', 'GET /', 'GET /health', 'PUT /api/orders/{id}'];
const RESULT_CODES = ['200', '200', '200', '200', '200', '201', '204', '400', '401', '404', '429', '500', '503'];
const REGIONS = ['westeurope', 'eastus', 'westus2'];

/** Sub-millisecond timestamps in exact binary fractions (k/8 ms), so seven-digit formatting is stable. */
function telemetryTime(r: Random, now: number, span: number): number {
  return now - Math.floor(r.next() * span) + r.int(0, 7) / 8;
}

function requests(now: number): TableDefinition {
  return {
    name: 'Requests',
    folder: 'Telemetry',
    docString: 'Incoming HTTP requests recorded by Application Insights over the last 7 days.',
    columns: [
      { name: 'Timestamp', type: 'datetime', docString: 'When the request started (UTC, sub-millisecond precision).' },
      { name: 'Id', type: 'guid', docString: 'Unique request id.' },
      { name: 'OperationId', type: 'string', docString: 'Distributed trace id shared with Traces and Exceptions.' },
      { name: 'Name', type: 'string', docString: 'Operation name: HTTP method and route template.' },
      { name: 'Url', type: 'string' },
      { name: 'ResultCode', type: 'string', docString: 'HTTP status code as text.' },
      { name: 'DurationMs', type: 'real', docString: 'Server processing time in milliseconds.' },
      { name: 'Duration', type: 'timespan', docString: 'Same as DurationMs, as a timespan.' },
      { name: 'Success', type: 'bool', docString: 'False for 5xx results and unhandled exceptions.' },
      { name: 'Cloud_RoleName', type: 'string', docString: 'Service that handled the request.' },
      { name: 'Cloud_RoleInstance', type: 'string' },
      { name: 'ClientIP', type: 'string' },
      { name: 'ItemCount', type: 'int', docString: 'Sampling weight.' },
      { name: 'CustomDimensions', type: 'dynamic', docString: 'Property bag: Region, Tenant, Version.' },
    ],
    rows: () => {
      const r = createRandom(0xa99);
      const rows: Row[] = [];
      for (let i = 0; i < 4000; i++) {
        const name = r.pick(OPERATIONS);
        const code = r.pick(RESULT_CODES);
        const duration = Math.round(r.next() ** 3 * 4000 * 1000) / 1000 + 0.5;
        const role = r.pick(ROLES);
        rows.push([
          telemetryTime(r, now, 7 * DAY), r.guid(), r.hex(32), name,
          `https://shop.contoso.example${name.split(' ')[1]?.replace('{id}', String(r.int(1, 9999)))}`,
          code, duration, duration, !code.startsWith('5'), role, `${role}-${r.int(0, 3)}`,
          `10.${r.int(0, 255)}.${r.int(0, 255)}.${r.int(1, 254)}`, r.chance(0.9) ? 1 : r.int(2, 10),
          { Region: r.pick(REGIONS), Tenant: `tenant-${r.int(1, 12)}`, Version: `1.${r.int(0, 4)}.${r.int(0, 20)}` },
        ]);
      }
      return rows;
    },
  };
}

const TRACE_MESSAGES = ['Processing order {n}', 'Cache miss for key item:{n}', 'Retrying call to payments (attempt {n})',
  'User signed in', 'Inventory level low for sku-{n}', 'Request completed in {n} ms', 'Timeout contacting database',
  "Ignoring command text '.drop table Orders' from user input", 'Configuration reloaded'];

function traces(now: number): TableDefinition {
  return {
    name: 'Traces',
    folder: 'Telemetry',
    docString: 'Application log messages (ILogger) with severity.',
    columns: [
      { name: 'Timestamp', type: 'datetime' },
      { name: 'OperationId', type: 'string', docString: 'Distributed trace id.' },
      { name: 'Message', type: 'string', docString: 'Log message text.' },
      { name: 'SeverityLevel', type: 'int', docString: '0 Verbose, 1 Information, 2 Warning, 3 Error, 4 Critical.' },
      { name: 'Cloud_RoleName', type: 'string' },
      { name: 'CustomDimensions', type: 'dynamic' },
    ],
    rows: () => {
      const r = createRandom(0x7ace);
      const rows: Row[] = [];
      for (let i = 0; i < 4000; i++) {
        const severity = r.next() < 0.6 ? 1 : r.int(0, 4);
        rows.push([
          telemetryTime(r, now, 7 * DAY), r.hex(32), r.pick(TRACE_MESSAGES).replace('{n}', String(r.int(1, 5000))), severity,
          r.pick(ROLES), { Category: r.pick(['Orders', 'Payments', 'Auth', 'Startup']), EventId: r.int(1000, 1100) },
        ]);
      }
      return rows;
    },
  };
}

const EXCEPTION_TYPES = ['System.TimeoutException', 'System.InvalidOperationException', 'System.NullReferenceException',
  'Microsoft.Data.SqlClient.SqlException', 'System.Net.Http.HttpRequestException'];

function exceptions(now: number): TableDefinition {
  return {
    name: 'Exceptions',
    folder: 'Telemetry',
    docString: 'Unhandled and logged exceptions.',
    columns: [
      { name: 'Timestamp', type: 'datetime' },
      { name: 'OperationId', type: 'string' },
      { name: 'ProblemId', type: 'string', docString: 'Groups identical exceptions (type and method).' },
      { name: 'Type', type: 'string' },
      { name: 'OuterMessage', type: 'string' },
      { name: 'Method', type: 'string' },
      { name: 'SeverityLevel', type: 'int' },
      { name: 'Cloud_RoleName', type: 'string' },
      { name: 'Details', type: 'dynamic', docString: 'Array of {type, message, parsedStack}.' },
    ],
    rows: () => {
      const r = createRandom(0xe4c);
      const rows: Row[] = [];
      for (let i = 0; i < 800; i++) {
        const type = r.pick(EXCEPTION_TYPES);
        const method = `Contoso.${r.pick(['Orders', 'Payments', 'Inventory'])}.Handler.${r.pick(['Get', 'Create', 'Update'])}Async`;
        const message = `${type.split('.').pop()}: operation failed after ${r.int(1, 30)}s`;
        rows.push([
          telemetryTime(r, now, 7 * DAY), r.hex(32), `${type} at ${method}`, type, message, method, r.int(2, 4),
          r.pick(ROLES), [{ type, message, parsedStack: [{ level: 0, method, line: r.int(10, 400) }] }],
        ]);
      }
      return rows;
    },
  };
}

const COMPUTERS = Array.from({ length: 12 }, (_, i) => `vm-${['web', 'api', 'db', 'worker'][i % 4]}-${String(i + 1).padStart(2, '0')}`);
const COUNTERS: ReadonlyArray<readonly [string, string, string, number]> = [
  ['Processor', '% Processor Time', '_Total', 100], ['Memory', 'Available MBytes', '', 16_384],
  ['LogicalDisk', '% Free Space', 'C:', 100], ['Network Interface', 'Bytes Total/sec', 'eth0', 5e7],
];

function perf(now: number): TableDefinition {
  return {
    name: 'Perf',
    folder: 'Infrastructure',
    docString: 'Performance counters sampled from virtual machines over the last 3 days.',
    columns: [
      { name: 'TimeGenerated', type: 'datetime' },
      { name: 'Computer', type: 'string' },
      { name: 'ObjectName', type: 'string' },
      { name: 'CounterName', type: 'string' },
      { name: 'InstanceName', type: 'string' },
      { name: 'CounterValue', type: 'real' },
      { name: 'SampleCount', type: 'int' },
    ],
    rows: () => {
      const r = createRandom(0xbe4f);
      const rows: Row[] = [];
      for (let i = 0; i < 5000; i++) {
        const [object, counter, instance, max] = r.pick(COUNTERS);
        rows.push([now - Math.floor(r.next() * 3 * DAY / 1000) * 1000, r.pick(COMPUTERS), object, counter, instance,
          round4(r.next() * max), r.int(1, 6)]);
      }
      return rows;
    },
  };
}

/** Above 2^53: JavaScript numbers cannot hold these, so the column exercises precision handling. */
const FIRST_SEQUENCE_NUMBER = 9_007_199_254_740_993n;

function heartbeat(now: number): TableDefinition {
  return {
    name: 'Heartbeat',
    folder: 'Infrastructure',
    docString: 'Agent heartbeats, one per computer every 5 minutes over the last ~21 hours.',
    columns: [
      { name: 'TimeGenerated', type: 'datetime' },
      { name: 'Computer', type: 'string' },
      { name: 'Category', type: 'string' },
      { name: 'OSType', type: 'string' },
      { name: 'Version', type: 'string' },
      { name: 'ComputerIP', type: 'string' },
      { name: 'SourceComputerId', type: 'guid' },
      { name: 'IsGatewayInstalled', type: 'bool' },
      { name: 'Uptime', type: 'timespan', docString: 'Time since the agent started.' },
      { name: 'SequenceNumber', type: 'long', docString: 'Agent sequence number; values exceed 2^53 (precision test).' },
    ],
    rows: () => {
      const r = createRandom(0x4ea7);
      const ids = COMPUTERS.map(() => r.guid());
      const rows: Row[] = [];
      for (let i = 0; i < 3000; i++) {
        const c = i % COMPUTERS.length;
        const time = now - Math.floor(i / COMPUTERS.length) * 5 * MINUTE - c * 1000;
        rows.push([time, COMPUTERS[c] as string, 'Direct Agent', c % 3 === 0 ? 'Windows' : 'Linux', '1.19.0',
          `10.0.${c}.${10 + c}`, ids[c] as string, c === 0, (3 * DAY + c * HOUR) - (i / COMPUTERS.length) * 5 * MINUTE,
          FIRST_SEQUENCE_NUMBER + BigInt(i)]);
      }
      return rows;
    },
  };
}

export const PERF_HISTORY_ROWS = 100_000;

function perfHistory(now: number): TableDefinition {
  return {
    name: 'PerfHistory',
    folder: 'Benchmarks',
    docString: `${PERF_HISTORY_ROWS.toLocaleString('en-US')} counter samples over 30 days; large on purpose, for memory and truncation benchmarks.`,
    columns: [
      { name: 'Timestamp', type: 'datetime' },
      { name: 'Computer', type: 'string' },
      { name: 'CounterName', type: 'string' },
      { name: 'CounterValue', type: 'real' },
      { name: 'Bucket', type: 'long' },
    ],
    rows: () => {
      const r = createRandom(0x100000);
      const step = Math.floor((30 * DAY) / PERF_HISTORY_ROWS);
      const rows: Row[] = new Array(PERF_HISTORY_ROWS);
      for (let i = 0; i < PERF_HISTORY_ROWS; i++) {
        const [, counter, , max] = COUNTERS[i % COUNTERS.length] as (typeof COUNTERS)[number];
        rows[i] = [now - (PERF_HISTORY_ROWS - i) * step, COMPUTERS[i % COMPUTERS.length] as string, counter,
          Math.round(r.next() * max * 100) / 100, i % 100] as KqlValue[];
      }
      return rows;
    },
  };
}

function round4(n: number): number {
  return Math.round(n * 10_000) / 10_000;
}

/** The three sample databases, with timestamps relative to `now`. */
export function createSampleDatabases(now: number = DEFAULT_NOW): DatabaseDefinition[] {
  return [
    { name: 'Samples', tables: [stormEvents(now), populationData()] },
    { name: 'AppTelemetry', tables: [requests(now), traces(now), exceptions(now)] },
    { name: 'Metrics', tables: [perf(now), heartbeat(now), perfHistory(now)] },
  ];
}
