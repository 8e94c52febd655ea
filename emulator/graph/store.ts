/**
 * The emulated tenant's data: users, teams with channels and messages, chats with read markers,
 * mailboxes, calendars, drives, presence and Teams async operations, plus the serializers that
 * turn stored records into Graph's resource shapes.
 *
 * Shapes follow the v1.0 resource pages on learn.microsoft.com: user, team, channel,
 * conversationMember, chat (with `viewpoint` and `lastMessagePreview`), chatMessage
 * (graph-protocol.md §9: `id, replyToId, etag, messageType, createdDateTime, lastModifiedDateTime,
 * …, from{application, device, user}, body{contentType, content}, attachments, mentions,
 * reactions, eventDetail`), message, mailFolder, event, drive, driveItem, presence,
 * teamsAsyncOperation.
 */
import { randomUUID } from 'node:crypto';

export interface GraphUser {
  id: string;
  displayName: string;
  givenName: string | null;
  surname: string | null;
  userPrincipalName: string;
  mail: string | null;
  jobTitle: string | null;
  department: string | null;
  officeLocation: string | null;
  businessPhones: string[];
  mobilePhone: string | null;
  preferredLanguage: string | null;
  accountEnabled: boolean;
  presence: { availability: string; activity: string; statusMessage?: string };
}

export interface Mention {
  id: number;
  mentionText: string;
  userId: string;
}

export interface ChatMessageAttachment {
  id: string;
  contentType: string;
  contentUrl: string | null;
  content: string | null;
  name: string | null;
  thumbnailUrl: string | null;
  teamsAppId?: string | null;
}

export interface StoredChatMessage {
  id: string;
  replyToId: string | null;
  messageType: 'message' | 'systemEventMessage';
  createdDateTime: string;
  lastModifiedDateTime: string;
  lastEditedDateTime: string | null;
  deletedDateTime: string | null;
  subject: string | null;
  importance: 'normal' | 'high' | 'urgent';
  fromUserId: string | null;
  body: { contentType: 'text' | 'html'; content: string };
  attachments: ChatMessageAttachment[];
  mentions: Mention[];
  reactions: Array<{ reactionType: string; createdDateTime: string; userId: string }>;
  eventDetail: Record<string, unknown> | null;
  replies: StoredChatMessage[];
}

export interface TeamMember {
  id: string;
  userId: string;
  roles: string[];
}

export interface Channel {
  id: string;
  displayName: string;
  description: string | null;
  membershipType: 'standard' | 'private' | 'shared';
  createdDateTime: string;
  /** Members of a private or shared channel; standard channels are open to the team. */
  memberIds: string[];
  messages: StoredChatMessage[];
}

export interface Team {
  id: string;
  displayName: string;
  description: string | null;
  visibility: 'public' | 'private';
  isArchived: boolean;
  createdDateTime: string;
  members: TeamMember[];
  channels: Channel[];
  /** Teams in migration mode accept app-only posts with Teamwork.Migrate.All. */
  migrationMode: boolean;
}

export interface Chat {
  id: string;
  topic: string | null;
  chatType: 'oneOnOne' | 'group' | 'meeting';
  createdDateTime: string;
  lastUpdatedDateTime: string;
  members: Array<{ userId: string; roles: string[] }>;
  messages: StoredChatMessage[];
  /** Each member's `viewpoint.lastMessageReadDateTime`. */
  readMarkers: Record<string, string | null>;
}

export interface MailFolder {
  id: string;
  displayName: string;
  parentFolderId: string;
  wellKnownName: string | null;
}

export interface EmailAddress {
  name: string;
  address: string;
}

export interface MailMessage {
  id: string;
  parentFolderId: string;
  createdDateTime: string;
  lastModifiedDateTime: string;
  receivedDateTime: string;
  sentDateTime: string;
  hasAttachments: boolean;
  internetMessageId: string;
  subject: string;
  importance: 'low' | 'normal' | 'high';
  conversationId: string;
  isRead: boolean;
  isDraft: boolean;
  from: EmailAddress;
  toRecipients: EmailAddress[];
  ccRecipients: EmailAddress[];
  body: { contentType: 'text' | 'html'; content: string };
  categories: string[];
}

export interface Mailbox {
  userId: string;
  folders: MailFolder[];
  messages: MailMessage[];
}

export interface CalendarEvent {
  id: string;
  subject: string;
  body: { contentType: 'text' | 'html'; content: string };
  /** UTC ISO instants; serialized as `{dateTime, timeZone: 'UTC'}`. */
  start: string;
  end: string;
  isAllDay: boolean;
  location: string | null;
  organizer: EmailAddress;
  attendees: Array<EmailAddress & { type: 'required' | 'optional'; response: string }>;
  isOnlineMeeting: boolean;
  joinUrl: string | null;
  showAs: string;
  createdDateTime: string;
  lastModifiedDateTime: string;
}

export interface DriveItem {
  id: string;
  name: string;
  parentId: string | null;
  isFolder: boolean;
  mimeType: string | null;
  /** File bytes (text files hold UTF-8). */
  content: Buffer | null;
  createdDateTime: string;
  lastModifiedDateTime: string;
  createdByUserId: string;
  lastModifiedByUserId: string;
}

export interface Drive {
  id: string;
  name: string;
  driveType: 'business' | 'documentLibrary';
  ownerUserId?: string;
  ownerTeamId?: string;
  items: DriveItem[];
}

export interface AsyncOperation {
  id: string;
  teamId: string;
  operationType: 'createTeam';
  createdDateTime: string;
  lastActionDateTime: string;
  /** Statuses still to be reported by the next polls, before the final one. */
  pending: string[];
  final: 'succeeded' | 'failed';
  status: string;
  attemptsCount: number;
  error: { code: string; message: string } | null;
  team: Team;
}

export interface TenantData {
  tenantId: string;
  /** The tenant's verified domain (UPN suffix). */
  domain: string;
  users: GraphUser[];
  teams: Team[];
  chats: Chat[];
  mailboxes: Mailbox[];
  events: Record<string, CalendarEvent[]>;
  drives: Drive[];
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isGuid(value: string): boolean {
  return GUID.test(value);
}

/** The tenant the emulated Graph serves; handlers read and change it, tests inspect it. */
export class GraphTenant {
  readonly tenantId: string;
  readonly domain: string;
  readonly users: GraphUser[];
  readonly teams: Team[];
  readonly chats: Chat[];
  readonly mailboxes: Mailbox[];
  readonly events: Record<string, CalendarEvent[]>;
  readonly drives: Drive[];
  readonly operations: AsyncOperation[] = [];
  /** Mail handed to `sendMail`, in order (what a test checks was sent). */
  readonly sentMail: Array<{ fromUserId: string; message: MailMessage; saveToSentItems: boolean; at: number }> = [];
  private lastMessageId = 0;

  constructor(data: TenantData) {
    this.tenantId = data.tenantId;
    this.domain = data.domain;
    this.users = data.users;
    this.teams = data.teams;
    this.chats = data.chats;
    this.mailboxes = data.mailboxes;
    this.events = data.events;
    this.drives = data.drives;
  }

  /** By object id or userPrincipalName (case-insensitive), as `/users/{id | userPrincipalName}`. */
  user(idOrUpn: string): GraphUser | undefined {
    const key = idOrUpn.toLowerCase();
    return this.users.find((user) => user.id.toLowerCase() === key || user.userPrincipalName.toLowerCase() === key);
  }

  team(id: string): Team | undefined {
    return this.teams.find((team) => team.id.toLowerCase() === id.toLowerCase());
  }

  chat(id: string): Chat | undefined {
    return this.chats.find((chat) => chat.id === id);
  }

  mailbox(userId: string): Mailbox {
    let mailbox = this.mailboxes.find((candidate) => candidate.userId === userId);
    if (!mailbox) {
      mailbox = { userId, folders: defaultFolders(userId), messages: [] };
      this.mailboxes.push(mailbox);
    }
    return mailbox;
  }

  calendar(userId: string): CalendarEvent[] {
    this.events[userId] ??= [];
    return this.events[userId];
  }

  drive(id: string): Drive | undefined {
    return this.drives.find((drive) => drive.id === id);
  }

  /** Teams message ids are epoch milliseconds; ids stay unique and increasing within the tenant. */
  newMessageId(at: number): string {
    this.lastMessageId = Math.max(this.lastMessageId + 1, at);
    return String(this.lastMessageId);
  }

  /** Adds a root message to a channel (for tests that need long channels); returns it. */
  addChannelMessage(teamId: string, channelId: string, input: { fromUserId: string; content: string; contentType?: 'text' | 'html'; createdDateTime?: string }): StoredChatMessage {
    const channel = this.team(teamId)?.channels.find((candidate) => candidate.id === channelId);
    if (!channel) throw new Error(`No channel ${channelId} in team ${teamId}`);
    const at = input.createdDateTime ? Date.parse(input.createdDateTime) : Date.now();
    const message = newChatMessage(this.newMessageId(at), new Date(at).toISOString(), input.fromUserId, { contentType: input.contentType ?? 'html', content: input.content });
    channel.messages.push(message);
    return message;
  }
}

export function newChatMessage(id: string, at: string, fromUserId: string | null, body: StoredChatMessage['body'], extra: Partial<StoredChatMessage> = {}): StoredChatMessage {
  return {
    id,
    replyToId: null,
    messageType: 'message',
    createdDateTime: at,
    lastModifiedDateTime: at,
    lastEditedDateTime: null,
    deletedDateTime: null,
    subject: null,
    importance: 'normal',
    fromUserId,
    body,
    attachments: [],
    mentions: [],
    reactions: [],
    eventDetail: null,
    replies: [],
    ...extra,
  };
}

export function defaultFolders(userId: string): MailFolder[] {
  const root = `AAMkAD-${userId.slice(-4)}-msgfolderroot`;
  const folder = (wellKnownName: string, displayName: string): MailFolder => ({ id: `AAMkAD-${userId.slice(-4)}-${wellKnownName}`, displayName, parentFolderId: root, wellKnownName });
  return [
    folder('inbox', 'Inbox'),
    folder('sentitems', 'Sent Items'),
    folder('drafts', 'Drafts'),
    folder('deleteditems', 'Deleted Items'),
    folder('archive', 'Archive'),
    folder('junkemail', 'Junk Email'),
  ];
}

export function newId(): string {
  return randomUUID();
}

/** `identitySet` of a Teams user as chatMessage.from carries it. */
export function teamsUserIdentity(tenant: GraphTenant, userId: string | null): Record<string, unknown> | null {
  if (userId === null) return null;
  const user = tenant.user(userId);
  return {
    application: null,
    device: null,
    user: { '@odata.type': '#microsoft.graph.teamworkUserIdentity', id: userId, displayName: user?.displayName ?? null, userIdentityType: 'aadUser', tenantId: tenant.tenantId },
  };
}

export interface MessagePlace {
  teamId?: string;
  channelId?: string;
  chatId?: string;
}

export function webUrlOf(place: MessagePlace, messageId: string, tenantId: string): string {
  if (place.chatId) return `https://teams.microsoft.com/l/message/${encodeURIComponent(place.chatId)}/${messageId}?context=%7B%22contextType%22%3A%22chat%22%7D`;
  return `https://teams.microsoft.com/l/message/${encodeURIComponent(place.channelId ?? '')}/${messageId}?groupId=${place.teamId}&tenantId=${tenantId}&createdTime=${messageId}&parentMessageId=${messageId}`;
}

/**
 * A stored message as Graph's chatMessage. System events come back with `messageType
 * "unknownFutureValue"` unless the request sent `Prefer: include-unknown-enum-members`
 * (graph-protocol.md §9).
 */
export function chatMessageJson(tenant: GraphTenant, message: StoredChatMessage, place: MessagePlace, options: { includeUnknownEnums: boolean }): Record<string, unknown> {
  const messageType = message.messageType === 'systemEventMessage' && !options.includeUnknownEnums ? 'unknownFutureValue' : message.messageType;
  return {
    id: message.id,
    replyToId: message.replyToId,
    etag: String(Date.parse(message.lastModifiedDateTime)),
    messageType,
    createdDateTime: message.createdDateTime,
    lastModifiedDateTime: message.lastModifiedDateTime,
    lastEditedDateTime: message.lastEditedDateTime,
    deletedDateTime: message.deletedDateTime,
    subject: message.subject,
    summary: null,
    chatId: place.chatId ?? null,
    importance: message.importance,
    locale: 'en-us',
    webUrl: webUrlOf(place, message.replyToId ?? message.id, tenant.tenantId),
    policyViolation: null,
    eventDetail: message.eventDetail,
    from: teamsUserIdentity(tenant, message.fromUserId),
    body: message.body,
    channelIdentity: place.teamId ? { teamId: place.teamId, channelId: place.channelId } : null,
    attachments: message.attachments,
    mentions: message.mentions.map((mention) => ({
      id: mention.id,
      mentionText: mention.mentionText,
      mentioned: {
        application: null,
        device: null,
        conversation: null,
        tag: null,
        user: { '@odata.type': '#microsoft.graph.teamworkUserIdentity', id: mention.userId, displayName: tenant.user(mention.userId)?.displayName ?? mention.mentionText, userIdentityType: 'aadUser', tenantId: tenant.tenantId },
      },
    })),
    reactions: message.reactions.map((reaction) => ({
      reactionType: reaction.reactionType,
      displayName: null,
      reactionContentUrl: null,
      createdDateTime: reaction.createdDateTime,
      user: { application: null, device: null, user: { '@odata.type': '#microsoft.graph.teamworkUserIdentity', id: reaction.userId, displayName: null, userIdentityType: 'aadUser' } },
    })),
    messageHistory: [],
  };
}

/** Plain text of an HTML body (for search and `bodyPreview`). */
export function textOf(html: string): string {
  return html
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/(p|div|li|h\d)>/gi, '\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/[ \t]+/g, ' ')
    .replace(/\n\s*\n+/g, '\n')
    .trim();
}
