// The one entry point for reloading the TLS certificate in a running core:
// the admin API (POST /tls/reload), SIGHUP to the core, and any reload
// command call reloadTls(); the TLS front registers itself at start.
export interface TlsReloadable {
  /** Reads the files again and serves the new certificate to new handshakes; throws (keeping the old one) if they are bad. */
  reload(): string;
}

let current: TlsReloadable | undefined;

export function registerTlsFront(front: TlsReloadable | undefined): void {
  current = front;
}

/** The new certificate's summary, or undefined when TLS is off. Throws PSG_ERR_TLS_CERTIFICATE if the files are bad. */
export function reloadTls(): string | undefined {
  return current?.reload();
}
