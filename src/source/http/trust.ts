/**
 * Trust for outgoing HTTPS: the public roots plus, when configured, one extra CA (the sandbox, or a
 * TLS-inspecting proxy). Built once as a SecureContext: handing `ca` to an Agent instead makes Node
 * parse every root certificate again for each new connection.
 */
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';

export function trustOptions(caPem: string | undefined): { secureContext?: SecureContext } {
  return caPem ? { secureContext: createSecureContext({ ca: [...rootCertificates, caPem] }) } : {};
}
