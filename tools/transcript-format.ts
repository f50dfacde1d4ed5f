/**
 * The pieces of a recorded transcript that are pure text: replacing what
 * changes from run to run with stable placeholders, and the page format of
 * docs/transcripts/stageN.md (one `## NAME` section per terminal).
 */

/** Rewrites one recorded line so that it reads the same on every run and every machine. */
export class Normaliser {
  private readonly ports = new Map<string, string>();
  private readonly tokens = new Map<string, string>();
  private readonly counters = new Map<string, number>();
  private readonly clientPorts: string[];

  /**
   * @param clientPorts the stand-in numbers for client (ephemeral) ports, used
   *   in order of first appearance; chosen to match the numbers the chapter's
   *   prose uses
   * @param paths real path → what to show instead (temp dirs, the repo root)
   */
  constructor(
    clientPorts: number[],
    private readonly paths: [string, string][] = [],
  ) {
    this.clientPorts = clientPorts.map(String);
  }

  /** Declares a real port with the number to show for it (a server's port as 5050). */
  port(real: number | string, shown: number | string): void {
    this.ports.set(String(real), String(shown));
  }

  private portFor(real: string): string {
    let shown = this.ports.get(real);
    if (shown === undefined) {
      shown = this.clientPorts[this.ports.size] ?? String(60000 + this.ports.size);
      this.ports.set(real, shown);
    }
    return shown;
  }

  /** `<kind N>`: the same real value always gets the same number, new values the next one. */
  private token(kind: string, real: string): string {
    const key = `${kind}\u0000${real}`;
    let shown = this.tokens.get(key);
    if (shown === undefined) {
      const n = (this.counters.get(kind) ?? 0) + 1;
      this.counters.set(kind, n);
      shown = `<${kind} ${n}>`;
      this.tokens.set(key, shown);
    }
    return shown;
  }

  /** Applies every rule to one line. */
  line(text: string): string {
    let out = text;
    for (const [real, shown] of this.paths) out = out.split(real).join(shown);
    // Whatever port a server listens on, it is shown as the first stand-in (5050).
    const listening = /^listening on .*:(\d+)$/.exec(out);
    if (listening?.[1] !== undefined) this.port(listening[1], this.clientPorts[0] ?? '5050');
    // ip:port and [ipv6]:port; "port 39745" in error messages; "port": 39745 in JSON logs.
    out = out.replace(
      /((?:\d{1,3}\.){3}\d{1,3}|\]):(\d{1,5})\b/g,
      (_m, host: string, port: string) => {
        return `${host}:${this.portFor(port)}`;
      },
    );
    out = out.replace(/(\bport |"port":)(\d{1,5})\b/g, (_m, pre: string, port: string) => {
      return `${pre}${this.portFor(port)}`;
    });
    // bcrypt output: the salt is random, so the hash is too.
    out = out.replace(/\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}/g, (m, cost: string) => {
      return `$2b$${cost}$${this.token('salt and hash', m)}`;
    });
    // Sealed boxes and challenges in JSON frames: random nonces make every one unique.
    out = out.replace(
      /"(box|challenge)":"([A-Za-z0-9+/=]{8,})"/g,
      (_m, key: string, value: string) => `"${key}":"${this.token(key, value)}"`,
    );
    // Public-key fingerprints (stage 7): a new key every run.
    out = out.replace(/SHA256:[A-Za-z0-9+/]{43}/g, (m) => `SHA256:${this.token('key', m)}`);
    // Safety numbers and key fingerprints as digits (stage 8): new keys every run.
    out = out.replace(/\b\d{5}(?: \d{5}){3,5}\b/g, (m) => this.token('digits', m));
    // Long hex strings (ciphertexts, keys) and epoch milliseconds in logs.
    out = out.replace(/\b[0-9a-f]{24,}\b/g, (m) => this.token('hex', m));
    out = out.replace(/"time":\d{13}/g, '"time":<time>');
    // Durations and rates: these measure the machine, not the program.
    out = out.replace(/\b\d+(?:\.\d+)? ?(ms|s)\b/g, (_m, unit: string) => `<n> ${unit}`);
    return out;
  }
}

/** One terminal of a recorded session. */
export interface TranscriptSection {
  /** The section's name, used by chapter markers: `server`, `alice`… */
  name: string;
  /** The lines, already normalised. */
  lines: string[];
}

/** The markdown page holding a stage's recorded session. */
export function renderTranscriptPage(
  title: string,
  notes: string[],
  sections: TranscriptSection[],
): string {
  const out = [
    '---',
    `title: '${title.replace(/'/g, "''")}'`,
    '---',
    '',
    `# ${title}`,
    '',
    ...notes,
    '',
  ];
  for (const section of sections) {
    out.push(`## ${section.name}`, '', '```text', ...section.lines, '```', '');
  }
  return out.join('\n');
}

/**
 * The code block of section `name` in a transcript page, as a chapter marker
 * includes it. Throws when the section is missing.
 */
export function transcriptSection(page: string, name: string, file = 'transcript'): string {
  const match = new RegExp(
    `^## ${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n\\n(\`\`\`text\\n[\\s\\S]*?\\n\`\`\`)$`,
    'm',
  ).exec(page);
  if (match?.[1] === undefined) throw new Error(`${file}: no section "${name}"`);
  return match[1];
}
