/**
 * Last line of defence for logs and error messages: whatever text leaves the process passes through
 * here, and anything shaped like a credential is masked. Code should not put secrets in messages in
 * the first place; this catches what a dependency's message might carry.
 */

const PATTERNS: readonly RegExp[] = [
  // JWTs (access and id tokens): three base64url segments, the first starting with {" encoded.
  /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g,
  // Bearer credentials in header dumps.
  /\b(Bearer)\s+[A-Za-z0-9._~+/=-]{8,}/gi,
  // Form or query fields that carry secrets.
  /\b(refresh_token|access_token|id_token|client_secret|client_assertion|device_code|code|sig|AccountKey|SharedAccessSignature)=([^&\s;"']+)/gi,
  // JSON fields that carry secrets.
  /"(refresh_token|access_token|id_token|client_secret|secret)"\s*:\s*"[^"]*"/gi,
];

const known = new Set<string>();

/** Registers a secret value (client secret, refresh token from a setting) so it is masked wherever it appears. */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 6) known.add(value);
}

/**
 * Registers the key or SAS of a storage connection string, so that it is masked wherever it appears
 * later: an SDK error can quote the key alone, without the `AccountKey=` the patterns below look for.
 */
export function registerConnectionStringSecrets(connectionString: string): void {
  for (const part of connectionString.split(';')) {
    const [name, ...rest] = part.split('=');
    if (/^(AccountKey|SharedAccessSignature)$/i.test(name?.trim() ?? '')) registerSecret(rest.join('='));
  }
}

export function redact(text: string): string {
  let out = text;
  for (const secret of known) out = out.split(secret).join('***');
  for (const pattern of PATTERNS) {
    out = out.replace(pattern, (match, name: string | undefined) => {
      if (match.startsWith('"')) return `"${name}":"***"`;
      if (name && /^bearer$/i.test(name)) return `${name} ***`;
      return name ? `${name}=***` : '***';
    });
  }
  return out;
}

/** A URL safe to show: origin and path only (query values can carry skiptokens, codes or SAS). */
export function safeUrl(url: string | URL): string {
  try {
    const u = new URL(String(url));
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(unparseable URL)';
  }
}
