/** The opaque page cursor of a session's entries: its DynamoDB key, base64url JSON. */

export class InvalidUsageCursorError extends Error {
  constructor() {
    super('cursor is not valid for this session');
    this.name = 'InvalidUsageCursorError';
  }
}

export function encodeCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/**
 * The key inside `cursor`; throws `InvalidUsageCursorError` when it is malformed or belongs to
 * another tenant or session.
 */
export function decodeCursor(
  cursor: string,
  tenantId: string,
  sessionId: string,
): Record<string, unknown> {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
    if (
      key.tenantId === tenantId &&
      typeof key.entryKey === 'string' &&
      key.entryKey.startsWith(`${sessionId}#`) &&
      Object.keys(key).length === 2
    ) {
      return key;
    }
  } catch {
    // fall through
  }
  throw new InvalidUsageCursorError();
}
