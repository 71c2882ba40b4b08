/**
 * `GET /v1/docs`: the operations of the OpenAPI document as one self-contained HTML page —
 * no scripts, styles or CDN assets, so the API's `default-src 'none'` policy holds for it too.
 * Tools that want more read `/v1/openapi.json`.
 */
interface DocumentOperation {
  summary?: string;
  description?: string;
  security?: unknown[];
  'x-required-action'?: string | null;
  'x-required-actions-by-request'?: Record<string, string>;
  responses?: Record<string, { description?: string }>;
}

const escapeHtml = (text: string): string =>
  text.replace(
    /[&<>"']/g,
    (character) =>
      ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[character] ??
      character,
  );

function accessOf(operation: DocumentOperation): string {
  const byRequest = operation['x-required-actions-by-request'];
  if (byRequest) {
    return Object.entries(byRequest)
      .map(([value, action]) => `${value}: <code>${escapeHtml(action)}</code>`)
      .join(', ');
  }
  const action = operation['x-required-action'];
  return action ? `<code>${escapeHtml(action)}</code>` : 'public';
}

/** The HTML page listing every operation of `document` (an OpenAPI 3.1 document). */
export function docsPage(document: {
  info: { title: string; version: string };
  paths?: Record<string, Record<string, DocumentOperation>>;
}): string {
  const rows: string[] = [];
  for (const [path, methods] of Object.entries(document.paths ?? {})) {
    for (const [method, operation] of Object.entries(methods)) {
      const statuses = Object.entries(operation.responses ?? {})
        .map(([status, response]) => `${status} ${escapeHtml(response.description ?? '')}`)
        .join('<br>');
      rows.push(
        `<tr><td><code>${method.toUpperCase()} ${escapeHtml(path)}</code></td>` +
          `<td>${escapeHtml(operation.summary ?? '')}${operation.description ? `<br><small>${escapeHtml(operation.description)}</small>` : ''}</td>` +
          `<td>${accessOf(operation)}</td><td><small>${statuses}</small></td></tr>`,
      );
    }
  }
  const title = `${escapeHtml(document.info.title)} ${escapeHtml(document.info.version)}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title></head>
<body>
<h1>${title}</h1>
<p>The machine-readable contract is <a href="/v1/openapi.json">/v1/openapi.json</a> (OpenAPI 3.1).
Callers authenticate with <code>Authorization: Bearer &lt;token or tdk_ key&gt;</code> or <code>X-API-Key</code>;
every error is <code>application/problem+json</code>.</p>
<table border="1" cellpadding="4">
<thead><tr><th>Operation</th><th>What it does</th><th>Required action</th><th>Responses</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>
</body></html>
`;
}
