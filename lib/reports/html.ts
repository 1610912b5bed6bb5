/** Small helpers shared by the HTML reports: escaping and one accessible page shell. */

export function escapeHtml(text: string | number): string {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * A complete page that works without JavaScript, reads at 320 px wide (tables scroll
 * inside their own box) and keeps text contrast above WCAG AA (4.5:1).
 */
export function htmlPage(title: string, body: string): string {
  return `<!doctype html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
  body { font-family: system-ui, -apple-system, "Segoe UI", Arial, sans-serif; color: #1b1b1b; background: #fff; margin: 0 auto; max-width: 72rem; padding: 1rem; line-height: 1.5; }
  h1, h2, h3 { line-height: 1.25; }
  .table-wrap { overflow-x: auto; }
  table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; min-width: 100%; }
  caption { text-align: left; font-weight: 600; padding: 0.25rem 0; }
  .table-wrap caption { max-width: calc(100vw - 2rem); }
  .table-wrap:focus { outline: 3px solid #1d4f91; outline-offset: 2px; }
  th, td { border: 1px solid #6b6b6b; padding: 0.4rem 0.6rem; text-align: left; vertical-align: top; }
  th { background: #e8eef4; }
  .tag { display: inline-block; border: 1px solid #1d4f91; color: #1d4f91; border-radius: 0.25rem; padding: 0 0.3rem; font-size: 0.875rem; }
  .state-active { color: #00703c; font-weight: 600; }
  .state-inactive { color: #8b0000; font-weight: 600; }
  dt { font-weight: 600; }
  dd { margin: 0 0 0.75rem 0; }
  code { background: #f3f2f1; padding: 0 0.2rem; }
</style>
</head>
<body>
${body}
</body>
</html>
`;
}
