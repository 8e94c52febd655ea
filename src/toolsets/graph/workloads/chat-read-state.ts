/**
 * A chat's read state for the signed-in user, from Graph's read marker:
 * `viewpoint.lastMessageReadDateTime` (when the user last read the chat)
 * against the time of its last message. Graph fills `viewpoint` only in
 * delegated context, so app-only the state is `unknown`.
 */

export type ReadState = 'read' | 'unread' | 'unknown';

export interface ChatReadFacts {
  viewpoint?: { lastMessageReadDateTime?: string | null } | null;
  lastMessagePreview?: { createdDateTime?: string | null; from?: { user?: { id?: string | null } | null } | null } | null;
}

export function chatReadState(chat: ChatReadFacts, callerId: string): ReadState {
  if (!chat.viewpoint) return 'unknown';
  const last = chat.lastMessagePreview;
  const lastAt = last?.createdDateTime ? Date.parse(last.createdDateTime) : Number.NaN;
  if (!last || Number.isNaN(lastAt)) return 'read';
  // One's own message is read by definition, whatever the marker says.
  if (last.from?.user?.id && last.from.user.id.toLowerCase() === callerId.toLowerCase()) return 'read';
  const readAt = chat.viewpoint.lastMessageReadDateTime ? Date.parse(chat.viewpoint.lastMessageReadDateTime) : Number.NaN;
  if (Number.isNaN(readAt)) return 'unread';
  return lastAt > readAt ? 'unread' : 'read';
}
