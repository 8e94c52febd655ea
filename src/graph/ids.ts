import { z } from 'zod';

/**
 * Validators for the Graph ids tools take as arguments, as zod schemas (so
 * a bad id is an invalid-arguments result naming the argument, before any
 * request), and `graphResource`, which puts ids into resource paths encoded
 * and gives the audit log the template without them.
 *
 * The forms are Graph's own: team ids are group GUIDs; channel ids
 * `19:…@thread.tacv2` (or `@thread.skype` for older teams); chat ids
 * `19:…@thread.v2` (group and meeting chats), `19:<guid>_<guid>@unq.gbl.spaces`
 * (one-to-one) or `48:notes` (a user's own notes chat); Teams message ids are
 * numbers (milliseconds since the epoch); Outlook and drive ids are
 * base64url-like tokens.
 */

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const THREAD_LOCAL = '[A-Za-z0-9_=.-]{1,200}';
const CHANNEL_ID = new RegExp(`^19:${THREAD_LOCAL}@thread\\.(tacv2|skype)$`);
const CHAT_ID = new RegExp(`^(19:${THREAD_LOCAL}@(thread\\.v2|unq\\.gbl\\.spaces|thread\\.tacv2|thread\\.skype)|48:notes)$`);
const TEAMS_MESSAGE_ID = /^\d{1,20}$/;
/** Outlook ids (messages, folders, events): base64 with `-`/`_` or `+`/`/`, `=` padding. */
const OUTLOOK_ID = /^[A-Za-z0-9+/_=-]{1,1024}$/;
/** Drive and item ids: `b!…` drive ids, `01ABC…` item ids, site-qualified `host,guid,guid`. */
const DRIVE_ID = /^[A-Za-z0-9!_.,-]{1,512}$/;
/** The UPN characters Entra allows before the `@` (guests: `jane_contoso.com#EXT#`), a domain after it. */
const UPN = /^(?=.{3,256}$)[A-Za-z0-9'._!#^~+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;
/** Well-known Outlook folder names Graph accepts in place of ids. */
export const WELL_KNOWN_MAIL_FOLDERS = ['inbox', 'sentitems', 'drafts', 'deleteditems', 'archive', 'junkemail', 'outbox'] as const;

const idString = (pattern: RegExp, description: string) => z.string().trim().regex(pattern, { error: `must be ${description}` });

export const guidSchema = idString(GUID, 'a GUID like 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0');
export const teamIdSchema = idString(GUID, 'a team id (the GUID of the team, from graph_teams_list)');
export const channelIdSchema = idString(CHANNEL_ID, 'a channel id like 19:…@thread.tacv2 (from graph_team_channels_list)');
export const chatIdSchema = idString(CHAT_ID, 'a chat id like 19:…@thread.v2 or 19:…@unq.gbl.spaces (from graph_chats_list)');
export const teamsMessageIdSchema = idString(TEAMS_MESSAGE_ID, 'a Teams message id (digits, from a message list)');
export const outlookIdSchema = idString(OUTLOOK_ID, 'an Outlook id (from a mail or calendar list)');
export const mailFolderSchema = z.union([z.enum(WELL_KNOWN_MAIL_FOLDERS), outlookIdSchema], { error: `must be a folder id or one of ${WELL_KNOWN_MAIL_FOLDERS.join(', ')}` });
export const driveIdSchema = idString(DRIVE_ID, 'a drive id (from graph_files_search)');
export const driveItemIdSchema = idString(DRIVE_ID, 'a drive item id (from graph_files_search)');
export const upnSchema = idString(UPN, 'a user principal name like ada@contoso.com');
/** `/users/{id | userPrincipalName}`: an object id or a UPN. */
export const userRefSchema = z
  .string()
  .trim()
  .refine((value) => GUID.test(value) || UPN.test(value), { error: 'must be a user object id (GUID) or user principal name (ada@contoso.com)' });

export const isGuid = (value: string) => GUID.test(value);

export interface GraphResource {
  /** The path with ids encoded, relative to the version root: `/teams/<id>/channels/19%3A…/messages`. */
  path: string;
  /** The same with the placeholders kept, for audit and errors: `/teams/{teamId}/channels/{channelId}/messages`. */
  template: string;
}

/**
 * A resource path from a template and ids: each `{name}` is replaced by its
 * value, percent-encoded as one path segment (`19:…@thread.tacv2` becomes
 * `19%3A…%40thread.tacv2`; a `/`, `?` or `#` in a value cannot change the
 * path). A missing value, an empty one or a dot segment throws.
 *
 * @example
 * graphResource('/teams/{teamId}/channels/{channelId}/messages', { teamId, channelId })
 */
export function graphResource(template: string, ids: Record<string, string>): GraphResource {
  if (!template.startsWith('/') || template.includes('?')) throw new Error(`a resource template is a path starting with "/": ${template}`);
  const path = template.replace(/\{([A-Za-z][A-Za-z0-9]*)\}/g, (_, name: string) => {
    const value = ids[name];
    if (value === undefined || value === '' || value === '.' || value === '..') throw new Error(`graphResource: no usable value for {${name}}`);
    return encodeURIComponent(value);
  });
  return { path, template };
}
