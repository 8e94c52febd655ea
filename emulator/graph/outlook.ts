/**
 * Outlook endpoints: mail folders, messages (list, get, `$filter`, `$search`, `$orderby`),
 * `sendMail`, `calendarView` and creating events, under `/users/{id}` (and `/me`).
 *
 * Models the v1.0 pages user-list-messages, message-get, user-list-mailfolders,
 * mailfolder-list-messages, user-sendmail, user-list-calendarview and user-post-events:
 * - Messages: 10 per page by default, `$top` up to 1000 (larger values capped: `unconfirmed`),
 *   newest `receivedDateTime` first; `id` and `@odata.etag` always returned with `$select`;
 *   `$count=true` works without `ConsistencyLevel`. With `$filter` and `$orderby` together, every
 *   `$orderby` property must also be in `$filter`, first and in the same order, else 400
 *   `InefficientFilter` "The restriction or sort order is too complex for this operation." (the
 *   documented rule of the Outlook REST update). `$search` with `$orderby` is 400
 *   `SearchWithOrderBy` (as reported in visionik/mogcli#11); with `$filter` also 400 (code
 *   `unconfirmed`). `Prefer: outlook.body-content-type="text"` returns text bodies with a
 *   `Preference-Applied` header (graph-protocol.md §7).
 * - Another user's mailbox or calendar with a delegated token: 403 `ErrorAccessDenied` (shared
 *   mailbox permissions are not modelled); app-only tokens with Mail.Read read any mailbox, as
 *   Graph does without an application access policy (graph-protocol.md §9).
 * - `sendMail` answers 202 with no body, saves to Sent Items unless `saveToSentItems: false`, and
 *   delivers to the inboxes of recipients in the tenant.
 * - `calendarView` without `startDateTime` and `endDateTime`: 400 `ErrorInvalidParameter` "This
 *   request requires a time window specified by the query string parameters StartDateTime and
 *   EndDateTime." (microsoft-graph-docs-contrib#8385); events overlapping the window, soonest
 *   first (`unconfirmed` default order), 10 per page, times in UTC.
 */
import { GraphError, emptyResponse, jsonResponse } from './errors.ts';
import { evaluateFilter, parseFilter } from './filter.ts';
import { collection, contextUrl, orderByList, pageSize, paginate, project, selectList, sortedBy, wantsCount } from './odata.ts';
import { requirePermission, type Operation } from './permissions.ts';
import { newId, textOf, type CalendarEvent, type EmailAddress, type MailFolder, type MailMessage, type Mailbox } from './store.ts';
import { findUser } from './directory.ts';
import type { GraphCall } from './context.ts';
import type { Router } from './router.ts';

const ACCESS_DENIED = () => new GraphError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');
const NOT_FOUND = () => new GraphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');

/** The mailbox/calendar owner named in the path; a delegated caller may only use their own. */
function ownerOf(call: GraphCall, operation: Operation): string {
  requirePermission(call.caller, operation);
  const user = findUser(call.tenant, call.params.user!);
  if (call.caller.kind === 'delegated' && user.id !== call.caller.userId) throw ACCESS_DENIED();
  return user.id;
}

function recipient(address: EmailAddress): Record<string, unknown> {
  return { emailAddress: { name: address.name, address: address.address } };
}

function wantsTextBody(call: GraphCall): boolean {
  return /outlook\.body-content-type\s*=\s*"?text"?/i.test(call.headers.get('prefer') ?? '');
}

function messageJson(call: GraphCall, message: MailMessage): Record<string, unknown> {
  const text = textOf(message.body.content);
  const body = wantsTextBody(call) ? { contentType: 'text', content: text } : message.body;
  return {
    '@odata.etag': `W/"CQAAABYAAAA${message.id.slice(-8)}"`,
    id: message.id,
    createdDateTime: message.createdDateTime,
    lastModifiedDateTime: message.lastModifiedDateTime,
    changeKey: `CQAAABYAAAA${message.id.slice(-8)}`,
    categories: message.categories,
    receivedDateTime: message.receivedDateTime,
    sentDateTime: message.sentDateTime,
    hasAttachments: message.hasAttachments,
    internetMessageId: message.internetMessageId,
    subject: message.subject,
    bodyPreview: text.slice(0, 255),
    importance: message.importance,
    parentFolderId: message.parentFolderId,
    conversationId: message.conversationId,
    isDeliveryReceiptRequested: false,
    isReadReceiptRequested: false,
    isRead: message.isRead,
    isDraft: message.isDraft,
    webLink: `https://outlook.office365.com/owa/?ItemID=${encodeURIComponent(message.id)}&exvsurl=1&viewmodel=ReadMessageItem`,
    inferenceClassification: 'focused',
    body,
    sender: recipient(message.from),
    from: recipient(message.from),
    toRecipients: message.toRecipients.map(recipient),
    ccRecipients: message.ccRecipients.map(recipient),
    bccRecipients: [],
    replyTo: [],
    flag: { flagStatus: 'notFlagged' },
  };
}

const MESSAGE_PROPERTIES = Object.keys({
  '@odata.etag': 0, id: 0, createdDateTime: 0, lastModifiedDateTime: 0, changeKey: 0, categories: 0, receivedDateTime: 0, sentDateTime: 0, hasAttachments: 0,
  internetMessageId: 0, subject: 0, bodyPreview: 0, importance: 0, parentFolderId: 0, conversationId: 0, isDeliveryReceiptRequested: 0, isReadReceiptRequested: 0,
  isRead: 0, isDraft: 0, webLink: 0, inferenceClassification: 0, body: 0, sender: 0, from: 0, toRecipients: 0, ccRecipients: 0, bccRecipients: 0, replyTo: 0, flag: 0,
});

function findFolder(mailbox: Mailbox, key: string): MailFolder {
  const lower = key.toLowerCase();
  const folder = mailbox.folders.find((candidate) => candidate.id.toLowerCase() === lower || candidate.wellKnownName === lower);
  if (!folder) throw NOT_FOUND();
  return folder;
}

function folderJson(mailbox: Mailbox, folder: MailFolder): Record<string, unknown> {
  const inFolder = mailbox.messages.filter((message) => message.parentFolderId === folder.id);
  return {
    id: folder.id,
    displayName: folder.displayName,
    parentFolderId: folder.parentFolderId,
    childFolderCount: mailbox.folders.filter((candidate) => candidate.parentFolderId === folder.id).length,
    unreadItemCount: inFolder.filter((message) => !message.isRead).length,
    totalItemCount: inFolder.length,
    sizeInBytes: inFolder.reduce((sum, message) => sum + message.body.content.length, 0),
    isHidden: false,
  };
}

function listFolders(call: GraphCall): Response {
  const mailbox = call.tenant.mailbox(ownerOf(call, 'mail.read'));
  const parent = call.params.folder ? findFolder(mailbox, call.params.folder).id : mailbox.folders[0]!.parentFolderId;
  const folders = sortedBy(mailbox.folders.filter((folder) => folder.parentFolderId === parent), (folder) => folder.displayName.toLowerCase(), false);
  const page = paginate(call, folders, pageSize(call, { defaultSize: 10, maxSize: 1000, overMax: 'clamp' }));
  return jsonResponse(200, collection(call, `users('${mailbox.userId}')/mailFolders`, { ...page, value: page.value.map((folder) => folderJson(mailbox, folder)) }), call.ids);
}

function getFolder(call: GraphCall): Response {
  const mailbox = call.tenant.mailbox(ownerOf(call, 'mail.read'));
  return jsonResponse(200, { '@odata.context': contextUrl(call, `users('${mailbox.userId}')/mailFolders/$entity`), ...folderJson(mailbox, findFolder(mailbox, call.params.folder!)) }, call.ids);
}

/** `$search="…"`: terms (all must match) over subject, body and sender; `from:`, `subject:`, `to:` restrict. */
function searchMatcher(raw: string): (message: MailMessage) => boolean {
  const query = raw.trim().replace(/^"(.*)"$/s, '$1');
  const terms = [...query.matchAll(/(\w+):("[^"]*"|\S+)|"([^"]*)"|(\S+)/g)].filter((term) => !/^(AND)$/i.test(term[0]));
  return (message) =>
    terms.every((term) => {
      const [, property, restricted, phrase, word] = term;
      const value = (restricted ?? phrase ?? word ?? '').replace(/"/g, '').toLowerCase();
      const from = `${message.from.name} ${message.from.address}`.toLowerCase();
      if (property?.toLowerCase() === 'from') return from.includes(value);
      if (property?.toLowerCase() === 'to') return message.toRecipients.some((r) => `${r.name} ${r.address}`.toLowerCase().includes(value));
      if (property?.toLowerCase() === 'subject') return message.subject.toLowerCase().includes(value);
      return `${message.subject} ${textOf(message.body.content)} ${from}`.toLowerCase().includes(value);
    });
}

/** The Outlook rule: `$orderby` properties must lead `$filter`, in the same order. */
function checkFilterOrder(filterProperties: string[], order: Array<{ property: string }>): void {
  const leading = filterProperties.slice(0, order.length).map((name) => name.toLowerCase());
  if (order.some((item, index) => leading[index] !== item.property.toLowerCase())) {
    throw new GraphError(400, 'InefficientFilter', 'The restriction or sort order is too complex for this operation.');
  }
}

function listMessages(call: GraphCall): Response {
  const mailbox = call.tenant.mailbox(ownerOf(call, 'mail.read'));
  const folder = call.params.folder ? findFolder(mailbox, call.params.folder) : undefined;
  let messages = mailbox.messages.filter((message) => !folder || message.parentFolderId === folder.id);
  const search = call.query.get('$search');
  const filterText = call.query.get('$filter');
  const order = orderByList(call.query);
  if (search !== null) {
    if (order.length > 0) throw new GraphError(400, 'SearchWithOrderBy', "The query parameter '$orderBy' is not supported with '$search'.");
    if (filterText !== null) throw new GraphError(400, 'ErrorInvalidUrlQuery', "The query parameter '$filter' is not supported with '$search'.");
    messages = messages.filter(searchMatcher(search));
  }
  if (filterText !== null) {
    const filter = parseFilter(filterText);
    if (order.length > 0) checkFilterOrder(filter.properties, order);
    messages = messages.filter((message) => evaluateFilter(filter.root, messageJson(call, message)));
  }
  const first = order[0];
  const sorted = first
    ? sortedBy(messages, (message) => String(messageJson(call, message)[Object.keys(messageJson(call, message)).find((k) => k.toLowerCase() === first.property.toLowerCase()) ?? 'receivedDateTime'] ?? ''), first.descending)
    : sortedBy(messages, (message) => message.receivedDateTime, true);
  const size = pageSize(call, { defaultSize: 10, maxSize: 1000, overMax: 'clamp' });
  const page = paginate(call, sorted, size);
  const select = selectList(call.query);
  const value = page.value.map((message) => project(messageJson(call, message), select, { type: 'message', known: MESSAGE_PROPERTIES, always: ['@odata.etag', 'id'], code: 'RequestBroker--ParseUri' }));
  const count = wantsCount(call.query) ? { '@odata.count': sorted.length } : {};
  const headers: Record<string, string> = wantsTextBody(call) ? { 'Preference-Applied': 'outlook.body-content-type="text"' } : {};
  return jsonResponse(200, collection(call, `users('${mailbox.userId}')/messages`, { ...page, value }, count), call.ids, headers);
}

function getMessage(call: GraphCall): Response {
  const mailbox = call.tenant.mailbox(ownerOf(call, 'mail.read'));
  const message = mailbox.messages.find((candidate) => candidate.id === call.params.message);
  if (!message) throw NOT_FOUND();
  const json = project(messageJson(call, message), selectList(call.query), { type: 'message', known: MESSAGE_PROPERTIES, always: ['@odata.etag', 'id'], code: 'RequestBroker--ParseUri' });
  const headers: Record<string, string> = wantsTextBody(call) ? { 'Preference-Applied': 'outlook.body-content-type="text"' } : {};
  return jsonResponse(200, { '@odata.context': contextUrl(call, `users('${mailbox.userId}')/messages/$entity`), ...json }, call.ids, headers);
}

function addresses(value: unknown, field: string): EmailAddress[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new GraphError(400, 'ErrorInvalidRecipients', `'${field}' must be a collection of recipients.`);
  return value.map((entry: { emailAddress?: { address?: unknown; name?: unknown } }) => {
    const address = entry?.emailAddress?.address;
    if (typeof address !== 'string' || !/^[^\s@]+@[^\s@]+$/.test(address)) throw new GraphError(400, 'ErrorInvalidRecipients', 'At least one recipient is not valid.');
    return { name: typeof entry.emailAddress?.name === 'string' ? entry.emailAddress.name : address, address };
  });
}

function sendMail(call: GraphCall): Response {
  const owner = ownerOf(call, 'mail.send');
  const input = (call.body ?? {}) as { message?: Record<string, unknown>; saveToSentItems?: unknown };
  const message = input.message;
  if (!message || typeof message !== 'object') throw new GraphError(400, 'ErrorInvalidRequest', "The request body must contain 'message'.");
  const to = addresses(message.toRecipients, 'toRecipients');
  const cc = addresses(message.ccRecipients, 'ccRecipients');
  const bcc = addresses(message.bccRecipients, 'bccRecipients');
  // unconfirmed: the wording when no recipient is given.
  if (to.length + cc.length + bcc.length === 0) throw new GraphError(400, 'ErrorInvalidRecipients', 'At least one recipient is required, but none were found.');
  const body = (message.body ?? {}) as { contentType?: unknown; content?: unknown };
  const sender = findUser(call.tenant, owner);
  const now = new Date(call.now()).toISOString();
  const stored = (folderId: string, isRead: boolean): MailMessage => ({
    id: `AAMkAD-${newId()}`, parentFolderId: folderId, createdDateTime: now, lastModifiedDateTime: now, receivedDateTime: now, sentDateTime: now,
    hasAttachments: Array.isArray(message.attachments) && message.attachments.length > 0, internetMessageId: `<${newId()}@${call.tenant.domain}>`,
    subject: typeof message.subject === 'string' ? message.subject : '', importance: (message.importance as MailMessage['importance']) ?? 'normal', conversationId: `AAQkAD-${newId()}`,
    isRead, isDraft: false, from: { name: sender.displayName, address: sender.mail ?? sender.userPrincipalName }, toRecipients: to, ccRecipients: cc,
    body: { contentType: String(body.contentType ?? 'text').toLowerCase() === 'html' ? 'html' : 'text', content: typeof body.content === 'string' ? body.content : '' }, categories: [],
  });
  const saveToSentItems = input.saveToSentItems !== false && input.saveToSentItems !== 'false';
  const sent = stored('', true);
  call.tenant.sentMail.push({ fromUserId: owner, message: sent, saveToSentItems, at: call.now() });
  if (saveToSentItems) {
    const mailbox = call.tenant.mailbox(owner);
    mailbox.messages.push({ ...sent, parentFolderId: findFolder(mailbox, 'sentitems').id });
  }
  for (const address of [...to, ...cc, ...bcc]) {
    const user = call.tenant.users.find((candidate) => candidate.mail?.toLowerCase() === address.address.toLowerCase() || candidate.userPrincipalName.toLowerCase() === address.address.toLowerCase());
    if (!user) continue;
    const mailbox = call.tenant.mailbox(user.id);
    mailbox.messages.push({ ...stored(findFolder(mailbox, 'inbox').id, false) });
  }
  return emptyResponse(202, call.ids, { 'Content-Length': '0' });
}

/**
 * The calendar owner's own answer to the event (Graph's `event.responseStatus`, on every event
 * resource): `organizer` for their own events, else their attendee entry's response, else `none`.
 */
function responseStatusOf(event: CalendarEvent, ownerAddress: string | undefined): Record<string, unknown> {
  const owner = ownerAddress?.toLowerCase();
  const response = owner && event.organizer.address.toLowerCase() === owner ? 'organizer' : (event.attendees.find((attendee) => attendee.address.toLowerCase() === owner)?.response ?? 'none');
  return { response, time: '0001-01-01T00:00:00Z' };
}

function eventJson(event: CalendarEvent, ownerAddress?: string): Record<string, unknown> {
  const stamp = (instant: string) => ({ dateTime: instant.replace('Z', '').padEnd(23, '0') + '0000', timeZone: 'UTC' });
  return {
    '@odata.etag': `W/"DwAAABYAAAA${event.id.slice(-6)}"`,
    id: event.id,
    createdDateTime: event.createdDateTime,
    lastModifiedDateTime: event.lastModifiedDateTime,
    subject: event.subject,
    bodyPreview: textOf(event.body.content).slice(0, 255),
    body: event.body,
    importance: 'normal',
    sensitivity: 'normal',
    isAllDay: event.isAllDay,
    isCancelled: false,
    isOrganizer: false,
    showAs: event.showAs,
    type: 'singleInstance',
    webLink: `https://outlook.office365.com/owa/?itemid=${encodeURIComponent(event.id)}&exvsurl=1&path=/calendar/item`,
    isOnlineMeeting: event.isOnlineMeeting,
    onlineMeetingProvider: event.isOnlineMeeting ? 'teamsForBusiness' : 'unknown',
    onlineMeeting: event.joinUrl ? { joinUrl: event.joinUrl } : null,
    start: stamp(event.start),
    end: stamp(event.end),
    location: { displayName: event.location ?? '', locationType: 'default' },
    attendees: event.attendees.map((attendee) => ({ type: attendee.type, status: { response: attendee.response, time: '0001-01-01T00:00:00Z' }, emailAddress: { name: attendee.name, address: attendee.address } })),
    organizer: { emailAddress: { name: event.organizer.name, address: event.organizer.address } },
    responseStatus: responseStatusOf(event, ownerAddress),
  };
}

function calendarView(call: GraphCall): Response {
  const owner = ownerOf(call, 'calendar.read');
  const start = call.query.get('startDateTime') ?? call.query.get('StartDateTime');
  const end = call.query.get('endDateTime') ?? call.query.get('EndDateTime');
  if (!start || !end) throw new GraphError(400, 'ErrorInvalidParameter', 'This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.');
  // Values without an offset are read as UTC (what Graph does unless `Prefer: outlook.timezone` says otherwise).
  const asInstant = (value: string) => Date.parse(/[zZ]|[+-]\d{2}:\d{2}$/.test(value) ? value : `${value}Z`);
  const from = asInstant(start);
  const to = asInstant(end);
  if (Number.isNaN(from) || Number.isNaN(to)) throw new GraphError(400, 'ErrorInvalidParameter', 'The value of the StartDateTime or EndDateTime parameter is not a valid date and time.');
  const events = call.tenant.calendar(owner).filter((event) => Date.parse(event.start) < to && Date.parse(event.end) > from);
  const page = paginate(call, sortedBy(events, (event) => event.start, false), pageSize(call, { defaultSize: 10, maxSize: 1000, overMax: 'clamp' }));
  const select = selectList(call.query);
  const known = Object.keys(eventJson(events[0] ?? call.tenant.calendar(owner)[0] ?? placeholderEvent()));
  const ownerUser = findUser(call.tenant, owner);
  const value = page.value.map((event) => project(eventJson(event, ownerUser.mail ?? ownerUser.userPrincipalName), select, { type: 'event', known, always: ['@odata.etag', 'id'] }));
  return jsonResponse(200, collection(call, `users('${owner}')/calendarView`, { ...page, value }), call.ids);
}

function placeholderEvent(): CalendarEvent {
  return { id: '', subject: '', body: { contentType: 'text', content: '' }, start: new Date(0).toISOString(), end: new Date(0).toISOString(), isAllDay: false, location: null, organizer: { name: '', address: '' }, attendees: [], isOnlineMeeting: false, joinUrl: null, showAs: 'busy', createdDateTime: '', lastModifiedDateTime: '' };
}

function createEvent(call: GraphCall): Response {
  const owner = ownerOf(call, 'events.create');
  const input = (call.body ?? {}) as Record<string, unknown>;
  const time = (value: unknown, field: string): string => {
    const stamp = value as { dateTime?: unknown; timeZone?: unknown } | undefined;
    if (typeof stamp?.dateTime !== 'string') throw new GraphError(400, 'ErrorInvalidRequest', `'${field}' with dateTime and timeZone is required.`);
    // unconfirmed: time zones other than UTC are read as UTC by the emulator.
    const instant = Date.parse(/[zZ]|[+-]\d{2}:\d{2}$/.test(stamp.dateTime) ? stamp.dateTime : `${stamp.dateTime}Z`);
    if (Number.isNaN(instant)) throw new GraphError(400, 'ErrorInvalidRequest', `'${field}.dateTime' is not a valid date and time.`);
    return new Date(instant).toISOString();
  };
  const start = time(input.start, 'start');
  const end = time(input.end, 'end');
  if (end < start) throw new GraphError(400, 'ErrorInvalidRequest', 'The end of the event must be after its start.');
  const organizer = findUser(call.tenant, owner);
  const body = (input.body ?? {}) as { contentType?: unknown; content?: unknown };
  const now = new Date(call.now()).toISOString();
  const event: CalendarEvent = {
    id: `AAMkAD-evt-${newId()}`, subject: typeof input.subject === 'string' ? input.subject : '',
    body: { contentType: String(body.contentType ?? 'text').toLowerCase() === 'html' ? 'html' : 'text', content: typeof body.content === 'string' ? body.content : '' },
    start, end, isAllDay: input.isAllDay === true, location: typeof (input.location as { displayName?: unknown })?.displayName === 'string' ? ((input.location as { displayName: string }).displayName) : null,
    organizer: { name: organizer.displayName, address: organizer.mail ?? organizer.userPrincipalName },
    attendees: (Array.isArray(input.attendees) ? input.attendees : []).map((attendee: { emailAddress?: { name?: string; address?: string }; type?: string }) => ({ name: attendee.emailAddress?.name ?? attendee.emailAddress?.address ?? '', address: attendee.emailAddress?.address ?? '', type: attendee.type === 'optional' ? 'optional' : 'required', response: 'none' })),
    isOnlineMeeting: input.isOnlineMeeting === true, joinUrl: input.isOnlineMeeting === true ? `https://teams.microsoft.com/l/meetup-join/19%3ameeting_${newId()}%40thread.v2/0` : null,
    showAs: typeof input.showAs === 'string' ? input.showAs : 'busy', createdDateTime: now, lastModifiedDateTime: now,
  };
  call.tenant.calendar(owner).push(event);
  return jsonResponse(201, { '@odata.context': contextUrl(call, `users('${owner}')/events/$entity`), ...eventJson(event), isOrganizer: true }, call.ids);
}

export function mailboxMessages(call: GraphCall, userId: string): MailMessage[] {
  return call.tenant.mailbox(userId).messages;
}

export { messageJson, eventJson };

export function addOutlookRoutes(router: Router): void {
  router
    .add('GET', '/users/{user}/mailFolders', listFolders)
    .add('GET', '/users/{user}/mailFolders/{folder}', getFolder)
    .add('GET', '/users/{user}/mailFolders/{folder}/childFolders', listFolders)
    .add('GET', '/users/{user}/mailFolders/{folder}/messages', listMessages)
    .add('GET', '/users/{user}/messages', listMessages)
    .add('GET', '/users/{user}/messages/{message}', getMessage)
    .add('POST', '/users/{user}/sendMail', sendMail)
    .add('GET', '/users/{user}/calendarView', calendarView)
    .add('GET', '/users/{user}/calendar/calendarView', calendarView)
    .add('POST', '/users/{user}/events', createEvent)
    .add('POST', '/users/{user}/calendar/events', createEvent);
}
