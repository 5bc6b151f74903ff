/** The URL with any password replaced by ***, safe to print. Unparseable input is hidden whole. */
export function maskUrl(url: string): string {
  if (url.startsWith('pglite:')) return url;
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable URL hidden>';
  }
}

/** Removes a password from any text (an error message from a driver, say) before it is shown. */
export function redactPassword(text: string, password: string | undefined): string {
  if (password === undefined || password === '') return text;
  return text.split(password).join('***');
}
