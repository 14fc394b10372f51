// Where webhooks may be sent (SSRF protection). A target URL is checked when a webhook is created
// or changed, and every address it resolves to is checked again when a delivery connects, so a
// name that resolves elsewhere later (DNS rebinding) still cannot reach a forbidden address.
// Address ranges come from ipaddr.js (the classification Express's proxy-addr uses).
import { lookup as dnsLookup } from 'node:dns';
import type { LookupAddress } from 'node:dns';
import ipaddr from 'ipaddr.js';

export interface TargetPolicy {
  /** SPRINTLANE_WEBHOOK_ALLOW_PRIVATE: every address is allowed. */
  allowPrivate: boolean;
  /** SPRINTLANE_WEBHOOK_ALLOWED_CIDRS: ranges allowed despite being private. */
  allowedCidrs: string[];
  /** SPRINTLANE_WEBHOOK_ALLOW_HTTP: plain http targets are allowed. */
  allowHttp: boolean;
}

/** Resolves a host name to its addresses; injectable so tests can resolve names without DNS. */
export type Resolve = (hostname: string) => Promise<string[]>;

export const systemResolve: Resolve = (hostname) =>
  new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses: LookupAddress[]) => (err ? reject(err) : resolve(addresses.map((a) => a.address)))),
  );

/** Why a URL cannot be a webhook target: the message of a 422 naming `url`. */
export class TargetRefused extends Error {}

type Address = ipaddr.IPv4 | ipaddr.IPv6;

export class WebhookTargets {
  private readonly cidrs: Array<[Address, number]>;

  constructor(
    private readonly policy: TargetPolicy,
    private readonly resolve: Resolve = systemResolve,
  ) {
    this.cidrs = policy.allowedCidrs.map((c) => ipaddr.parseCIDR(c));
  }

  /** Why the address may not be reached, or undefined when it may. */
  forbidden(address: string): string | undefined {
    if (!ipaddr.isValid(address)) return 'is not an IP address';
    let ip: Address = ipaddr.parse(address);
    // ::ffff:10.0.0.1 is 10.0.0.1.
    if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) ip = (ip as ipaddr.IPv6).toIPv4Address();
    if (this.policy.allowPrivate) return undefined;
    if (this.cidrs.some(([range, bits]) => range.kind() === ip.kind() && ip.match(range, bits))) return undefined;
    const range = ip.range();
    return range === 'unicast' ? undefined : `is a ${range} address`;
  }

  /**
   * The URL, checked for creation: http(s) (plain http only if allowed), no credentials, and a
   * host that is not, and does not resolve to, a forbidden address. A name that does not resolve
   * now is accepted: it is checked again whenever a delivery connects.
   */
  async check(raw: string): Promise<URL> {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new TargetRefused('`url` is not a valid absolute URL');
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && this.policy.allowHttp)) {
      throw new TargetRefused(this.policy.allowHttp ? '`url` must be http or https' : '`url` must be https (plain http is off: SPRINTLANE_WEBHOOK_ALLOW_HTTP)');
    }
    if (url.username || url.password) throw new TargetRefused('`url` must not carry credentials; sign with the webhook secret instead');
    // The URL parser has already turned decimal, hex and octal IPv4 spellings into dotted quads.
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (ipaddr.isValid(host)) {
      const why = this.forbidden(host);
      if (why) throw new TargetRefused(`\`url\`: ${host} ${why}; set SPRINTLANE_WEBHOOK_ALLOW_PRIVATE or SPRINTLANE_WEBHOOK_ALLOWED_CIDRS to reach your own network`);
      return url;
    }
    if (!this.policy.allowPrivate && (host === 'localhost' || host.endsWith('.localhost'))) {
      throw new TargetRefused('`url`: localhost is a loopback name; set SPRINTLANE_WEBHOOK_ALLOW_PRIVATE to reach your own machine');
    }
    let addresses: string[];
    try {
      addresses = await this.resolve(host);
    } catch {
      return url;
    }
    for (const address of addresses) {
      const why = this.forbidden(address);
      if (why) throw new TargetRefused(`\`url\`: ${host} resolves to ${address}, which ${why}; set SPRINTLANE_WEBHOOK_ALLOW_PRIVATE or SPRINTLANE_WEBHOOK_ALLOWED_CIDRS to reach your own network`);
    }
    return url;
  }

  /**
   * A `lookup` for net.connect / tls.connect: resolves, and fails the connection when any
   * address is forbidden (all of them are checked, not just the one used, so a name cannot mix a
   * public address with a private one).
   */
  readonly lookup = (
    hostname: string,
    options: { family?: number | string; all?: boolean },
    callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    this.resolve(hostname).then(
      (addresses) => {
        const bad = addresses.map((a) => [a, this.forbidden(a)] as const).find(([, why]) => why !== undefined);
        if (bad) {
          const err: NodeJS.ErrnoException = new Error(`${hostname} resolves to ${bad[0]}, which ${bad[1]}`);
          err.code = 'ETARGETFORBIDDEN';
          return callback(err, '');
        }
        if (addresses.length === 0) {
          const err: NodeJS.ErrnoException = new Error(`${hostname} does not resolve`);
          err.code = 'ENOTFOUND';
          return callback(err, '');
        }
        const list = addresses.map((address) => ({ address, family: ipaddr.parse(address).kind() === 'ipv6' ? 6 : 4 }));
        if (options.all) return callback(null, list);
        callback(null, list[0]!.address, list[0]!.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, ''),
    );
  };
}
