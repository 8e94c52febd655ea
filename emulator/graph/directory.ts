/**
 * Directory and presence endpoints: `/me`, `/users` (list, `$count`, `$filter`, `$search`,
 * `$orderby`, `$select`, paging), `/users/{id | userPrincipalName}`, `/users/{id}/presence` and
 * `POST /communications/getPresencesByUserId`.
 *
 * Models https://learn.microsoft.com/graph/api/user-list, user-get,
 * https://learn.microsoft.com/graph/aad-advanced-queries (graph-protocol.md §8: `$search` needs
 * `ConsistencyLevel: eventual`; `$count=true` without it silently omits `@odata.count`;
 * `/users/$count` without it is 400; `ne`/`not`/`endsWith` need the header and `$count=true`; a
 * filter on an unindexed property is 400 `Request_UnsupportedQuery`), the default page of 100 and
 * `$top` up to 999, the default property set of a user (`businessPhones, displayName, givenName,
 * id, jobTitle, mail, mobilePhone, officeLocation, preferredLanguage, surname,
 * userPrincipalName`), and https://learn.microsoft.com/graph/api/cloudcommunications-getpresencesbyuserid
 * (object ids only, at most 650 per request; Presence.Read.All).
 */
import { GraphError, jsonResponse } from './errors.ts';
import { evaluateFilter, parseFilter } from './filter.ts';
import { collection, contextUrl, orderByList, pageSize, paginate, project, selectList, sortedBy, wantsCount } from './odata.ts';
import { held, requirePermission } from './permissions.ts';
import { isGuid, type GraphTenant, type GraphUser } from './store.ts';
import type { GraphCall } from './context.ts';
import type { Router } from './router.ts';

const DEFAULT_USER_PROPERTIES = ['businessPhones', 'displayName', 'givenName', 'jobTitle', 'mail', 'mobilePhone', 'officeLocation', 'preferredLanguage', 'surname', 'userPrincipalName', 'id'];
const USER_PROPERTIES = [...DEFAULT_USER_PROPERTIES, 'department', 'accountEnabled'];
/** Properties `/users` filters on without advanced queries (the indexed ones the product uses). */
const FILTERABLE = ['id', 'displayName', 'givenName', 'surname', 'mail', 'userPrincipalName', 'jobTitle', 'department', 'accountEnabled', 'officeLocation', 'mobilePhone', 'preferredLanguage'];
const SEARCHABLE = ['displayName', 'givenName', 'surname', 'mail', 'userPrincipalName', 'jobTitle', 'department', 'officeLocation'];
const MAX_PRESENCE_IDS = 650;

export function userJson(user: GraphUser): Record<string, unknown> {
  const { presence: _presence, ...rest } = user;
  return rest;
}

function shapedUser(call: GraphCall, user: GraphUser): Record<string, unknown> {
  const select = selectList(call.query);
  const full = userJson(user);
  if (!select) return Object.fromEntries(DEFAULT_USER_PROPERTIES.map((name) => [name, full[name] ?? null]));
  return project(full, select, { type: 'user', known: USER_PROPERTIES, code: 'Request_BadRequest' });
}

export function findUser(tenant: GraphTenant, idOrUpn: string): GraphUser {
  const user = tenant.user(idOrUpn);
  if (!user) throw new GraphError(404, 'Request_ResourceNotFound', `Resource '${idOrUpn}' does not exist or one of its queried reference-property objects are not present.`);
  return user;
}

function isEventual(call: GraphCall): boolean {
  return call.headers.get('consistencylevel')?.trim().toLowerCase() === 'eventual';
}

/** `"displayName:ann" OR "mail:ann"`: each clause a quoted `property:term`, joined by AND/OR. */
function searchPredicate(raw: string): (user: GraphUser) => boolean {
  const clauses = [...raw.matchAll(/"([^"]*)"|\b(AND|OR)\b/g)];
  if (clauses.length === 0) throw new GraphError(400, 'Request_UnsupportedQuery', 'Invalid $search value: clauses must be of the form "property:value" in double quotes.');
  let predicate: ((user: GraphUser) => boolean) | undefined;
  let joiner: 'AND' | 'OR' = 'AND';
  for (const clause of clauses) {
    if (clause[2]) {
      joiner = clause[2] as 'AND' | 'OR';
      continue;
    }
    const [property = '', ...rest] = (clause[1] ?? '').split(':');
    const term = rest.join(':').trim().toLowerCase();
    const name = SEARCHABLE.find((candidate) => candidate.toLowerCase() === property.trim().toLowerCase());
    if (!name || term === '') throw new GraphError(400, 'Request_UnsupportedQuery', `Unsupported or invalid $search clause '${clause[1] ?? ''}'.`);
    // Graph tokenizes displayName (spaces, symbols, camel case) and matches token prefixes.
    const matches = (user: GraphUser) => {
      const value = String((user as unknown as Record<string, unknown>)[name] ?? '').toLowerCase();
      return value.startsWith(term) || value.split(/[\s.@_'-]+/).some((token) => token.startsWith(term));
    };
    const previous = predicate;
    predicate = previous === undefined ? matches : joiner === 'AND' ? (user) => previous(user) && matches(user) : (user) => previous(user) || matches(user);
    joiner = 'AND';
  }
  return predicate!;
}

function filterUsers(call: GraphCall, users: GraphUser[]): GraphUser[] {
  const advanced = isEventual(call) && wantsCount(call.query);
  let result = users;
  const search = call.query.get('$search');
  if (search !== null) {
    if (!isEventual(call)) {
      throw new GraphError(400, 'Request_UnsupportedQuery', "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'");
    }
    const predicate = searchPredicate(search);
    result = result.filter(predicate);
  }
  const filterText = call.query.get('$filter');
  if (filterText !== null) {
    const filter = parseFilter(filterText);
    for (const property of filter.properties) {
      if (!FILTERABLE.some((name) => name.toLowerCase() === property.toLowerCase())) {
        throw new GraphError(400, 'Request_UnsupportedQuery', `Unsupported or invalid query filter clause specified for property '${property}' of resource 'User'.`);
      }
    }
    const feature = filter.advanced[0];
    if (feature && !advanced) {
      throw new GraphError(400, 'Request_UnsupportedQuery', `Operator '${feature}' is not supported because the required parameters might be missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information`);
    }
    result = result.filter((user) => evaluateFilter(filter.root, userJson(user)));
  }
  return result;
}

function orderUsers(call: GraphCall, users: GraphUser[]): GraphUser[] {
  const order = orderByList(call.query);
  if (order.length === 0) return sortedBy(users, (user) => user.id, false);
  const [first] = order;
  const property = ['displayName', 'userPrincipalName'].find((name) => name.toLowerCase() === first!.property.toLowerCase());
  if (!property) throw new GraphError(400, 'Request_UnsupportedQuery', `Order by on property '${first!.property}' is not supported.`);
  if ((call.query.has('$filter') || call.query.has('$search')) && !(isEventual(call) && wantsCount(call.query))) {
    throw new GraphError(400, 'Request_UnsupportedQuery', 'Sorting not supported for current query.');
  }
  return sortedBy(users, (user) => String((user as unknown as Record<string, unknown>)[property] ?? '').toLowerCase(), first!.descending);
}

function listUsers(call: GraphCall): Response {
  requirePermission(call.caller, 'users.list');
  const size = pageSize(call, {
    defaultSize: 100,
    maxSize: 999,
    overMax: { error: (top) => new GraphError(400, 'Request_BadRequest', `Invalid page size specified: '${top}'. Must be between 1 and 999 inclusive.`) },
  }, 'Request_BadRequest');
  const users = orderUsers(call, filterUsers(call, call.tenant.users));
  const page = paginate(call, users, size, 'Request_BadRequest');
  // `$count=true` without the header: 200 and the count silently left out (graph-protocol.md §8).
  const count = wantsCount(call.query) && isEventual(call) ? { '@odata.count': users.length } : {};
  return jsonResponse(200, collection(call, 'users', { ...page, value: page.value.map((user) => shapedUser(call, user)) }, count), call.ids);
}

function countUsers(call: GraphCall): Response {
  requirePermission(call.caller, 'users.list');
  if (!isEventual(call)) throw new GraphError(400, 'Request_BadRequest', '$count is not currently supported.');
  const users = filterUsers(call, call.tenant.users);
  return new Response(String(users.length), { status: 200, headers: { 'content-type': 'text/plain', 'request-id': call.ids.requestId, 'client-request-id': call.ids.clientRequestId } });
}

function getUser(call: GraphCall): Response {
  const user = findUser(call.tenant, call.params.user!);
  const self = call.caller.kind === 'delegated' && user.id === call.caller.userId;
  // Reading one's own profile needs only User.Read, through /me or /users/{own id}.
  if (!(self && held(call.caller, ['User.Read', 'User.ReadWrite']).length > 0)) requirePermission(call.caller, call.viaMe ? 'me.get' : 'users.get');
  const fragment = call.viaMe ? 'users/$entity' : 'users/$entity';
  return jsonResponse(200, { '@odata.context': contextUrl(call, fragment), ...shapedUser(call, user) }, call.ids);
}

function presenceJson(id: string, user: GraphUser | undefined): Record<string, unknown> {
  const presence = user?.presence ?? { availability: 'PresenceUnknown', activity: 'PresenceUnknown' };
  return {
    id,
    availability: presence.availability,
    activity: presence.activity,
    statusMessage: presence.statusMessage ? { message: { content: presence.statusMessage, contentType: 'text' }, publishedDateTime: null, expiryDateTime: { dateTime: '9999-12-30T23:00:00.0000000', timeZone: 'UTC' } } : null,
    outOfOfficeSettings: { message: null, isOutOfOffice: false },
  };
}

function getPresence(call: GraphCall): Response {
  const user = findUser(call.tenant, call.params.user!);
  const self = call.caller.kind === 'delegated' && user.id === call.caller.userId;
  if (!(self && held(call.caller, ['Presence.Read']).length > 0)) requirePermission(call.caller, 'presence.byIds');
  return jsonResponse(200, { '@odata.context': contextUrl(call, `users('${user.id}')/presence/$entity`), ...presenceJson(user.id, user) }, call.ids);
}

function presencesByIds(call: GraphCall): Response {
  requirePermission(call.caller, 'presence.byIds');
  const ids = (call.body as { ids?: unknown } | undefined)?.ids;
  if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string')) throw new GraphError(400, 'BadRequest', "The request body must contain 'ids', a collection of user object ids.");
  if (ids.length === 0) throw new GraphError(400, 'BadRequest', "The 'ids' collection must not be empty.");
  // unconfirmed: the wording of both refusals below.
  if (ids.length > MAX_PRESENCE_IDS) throw new GraphError(400, 'BadRequest', `The number of user ids (${ids.length}) exceeds the maximum of ${MAX_PRESENCE_IDS} per request.`);
  const invalid = (ids as string[]).find((id) => !isGuid(id));
  if (invalid) throw new GraphError(400, 'BadRequest', `'${invalid}' is not a valid user object id.`);
  const value = (ids as string[]).map((id) => presenceJson(id, call.tenant.user(id)));
  return jsonResponse(200, { '@odata.context': contextUrl(call, 'Collection(microsoft.graph.presence)'), value }, call.ids);
}

export function addDirectoryRoutes(router: Router): void {
  router
    .add('GET', '/users', listUsers)
    .add('GET', '/users/$count', countUsers)
    .add('GET', '/users/{user}', getUser)
    .add('GET', '/users/{user}/presence', getPresence)
    .add('POST', '/communications/getPresencesByUserId', presencesByIds);
}
