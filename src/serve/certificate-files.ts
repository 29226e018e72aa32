// Follows the files of one TLS credential (a certificate and its key, or a CA bundle) so a rotation on
// disk applies without a restart. cert-manager renews every few weeks; kubelet then swaps the mounted
// Secret's `..data` symlink, which changes every file of it at once (watchFile sees that swap). Any
// change re-reads all files of the credential together, so a pair is only ever judged as a pair, and
// nothing is swapped in before it passed its check: a broken or half-written edit is refused with the
// reason in the log and the metrics, and what was in use stays in use.
import { readFile } from 'node:fs/promises';
import { Counter, Gauge, type Registry } from 'prom-client';
import { watchFile, type FileWatch } from '../config/index.ts';
import type { CertificateFacts } from '../gateway/tls-material.ts';

/** Which credential: the metric label and the log field. */
export type CertificateName = 'serving' | 'client-ca' | 'upstream-client' | 'upstream-ca' | 'admin-serving' | 'admin-client-ca';

export interface CertificateMetrics {
  notAfter: Gauge<'certificate'>;
  reloads: Counter<'certificate' | 'result'>;
}

export function registerCertificateMetrics(registry: Registry): CertificateMetrics {
  return {
    notAfter: new Gauge({
      name: 'kcp_edge_certificate_not_after_seconds',
      help: 'End of validity (Unix seconds) of the certificate in use, by credential (a CA bundle: its longest-lived certificate valid now).',
      labelNames: ['certificate'] as const,
      // Over worker processes the one that would expire first is the one to alert on.
      aggregator: 'min',
      registers: [registry],
    }),
    reloads: new Counter({
      name: 'kcp_edge_certificate_reloads_total',
      help: 'Changes of certificate files on disk, by credential and result: applied, or rejected (the previous one stays in use).',
      labelNames: ['certificate', 'result'] as const,
      registers: [registry],
    }),
  };
}

export interface CertificateLog {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface CertificateFilesOptions<T> {
  name: CertificateName;
  files: readonly string[];
  /** The files' texts as read at start (already in use), in the order of `files`. */
  initial: readonly string[];
  /** Builds the credential from the files' texts, throwing with the reason when it is not good. */
  check(texts: readonly string[]): { value: T; facts: CertificateFacts };
  /** Swaps a checked credential in. */
  apply(value: T): void;
  log: CertificateLog;
  metrics: CertificateMetrics;
  debounceMs?: number;
}

function readable(file: string): Promise<string> {
  return readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new Error(`cannot read ${file}: ${err.code ?? err.message}`);
  });
}

/** Follows `files` until close(); the credential read at start is checked too, so a bad one is visible. */
export function followCertificateFiles<T>(options: CertificateFilesOptions<T>): FileWatch {
  const { name, files, log, metrics } = options;
  const label = { certificate: name };
  const key = (texts: readonly string[]) => texts.join('\0');
  let lastSeen = key(options.initial);
  let closed = false;

  try {
    metrics.notAfter.set(label, options.check(options.initial).facts.notAfter.getTime() / 1000);
  } catch (err) {
    log.error({ certificate: name, files, reason: (err as Error).message }, 'certificate in use failed its check');
  }

  async function attempt(): Promise<void> {
    let texts: string[] | undefined;
    let unreadable = '';
    try {
      texts = await Promise.all(files.map(readable));
    } catch (err) {
      unreadable = (err as Error).message;
    }
    // Every file of a pair has its own watch; one change of both is one attempt, not two.
    const seen = texts === undefined ? `unreadable\0${unreadable}` : key(texts);
    if (closed || seen === lastSeen) return;
    lastSeen = seen;
    try {
      if (texts === undefined) throw new Error(unreadable);
      const { value, facts } = options.check(texts);
      options.apply(value);
      metrics.notAfter.set(label, facts.notAfter.getTime() / 1000);
      metrics.reloads.inc({ ...label, result: 'applied' });
      log.info({ certificate: name, files, notAfter: facts.notAfter.toISOString(), fingerprint256: facts.fingerprint256 }, 'certificate reloaded; new connections use it');
    } catch (err) {
      metrics.reloads.inc({ ...label, result: 'rejected' });
      log.error({ certificate: name, files, reason: (err as Error).message }, 'certificate change rejected; the previous one stays in use');
    }
  }

  let queue = Promise.resolve();
  const reload = (): Promise<void> => (queue = queue.then(attempt));
  const watches = files.map((file, i) => watchFile(file, options.initial[i], reload, options.debounceMs === undefined ? {} : { debounceMs: options.debounceMs }));
  // A rotation between the config's read and these watches would otherwise wait for the next one.
  void reload();
  return {
    close() {
      closed = true;
      for (const watch of watches) watch.close();
    },
  };
}
