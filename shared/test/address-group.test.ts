import fc from 'fast-check';
import { addressGroup } from '../src/address-group';

describe('addressGroup: what a per-address limit counts as one address', () => {
  test('IPv4 is itself, also when seen through a dual-stack socket', () => {
    expect(addressGroup('203.0.113.7')).toBe('203.0.113.7');
    expect(addressGroup('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(addressGroup('::FFFF:127.0.0.1')).toBe('127.0.0.1');
  });

  test('IPv6 is grouped by its first 64 bits, however it is written', () => {
    const group = '2001:db8:0:1::/64';
    for (const address of [
      '2001:db8:0:1:8a2e:370:7334:1',
      '2001:0db8:0000:0001:ffff:ffff:ffff:ffff',
      '2001:DB8:0:1::',
      '2001:db8::1:0:0:0:1',
      '2001:db8:0:1::9%eth0', // a zone id is dropped
    ]) {
      expect(addressGroup(address)).toBe(group);
    }
    expect(addressGroup('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressGroup('::1')).toBe('0:0:0:0::/64');
    expect(addressGroup('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64');
    expect(addressGroup('2001:db8:0:2::1')).not.toBe(group);
  });

  test('no address is "unknown"', () => {
    expect(addressGroup(undefined)).toBe('unknown');
    expect(addressGroup('')).toBe('unknown');
  });

  test('property: every address of one /64 maps to one group, and groups are stable', () => {
    const hextet = fc.integer({ min: 0, max: 0xffff }).map((n) => n.toString(16));
    fc.assert(
      fc.property(
        fc.array(hextet, { minLength: 8, maxLength: 8 }),
        fc.array(hextet, { minLength: 4, maxLength: 4 }),
        (a, lowBits) => {
          const full = a.join(':');
          const sameNetwork = [...a.slice(0, 4), ...lowBits].join(':');
          expect(addressGroup(full)).toBe(addressGroup(sameNetwork));
          expect(addressGroup(full)).toMatch(/^[0-9a-f]{1,4}(:[0-9a-f]{1,4}){3}::\/64$/);
        },
      ),
    );
  });
});
