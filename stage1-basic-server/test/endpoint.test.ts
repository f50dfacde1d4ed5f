import { mappedIPv4 } from '../src/endpoint';

describe('endpoint addresses', () => {
  test('finds the IPv4 address inside an IPv4-mapped IPv6 address, and only there', () => {
    expect(mappedIPv4('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(mappedIPv4('::FFFF:10.0.0.7')).toBe('10.0.0.7');
    expect(mappedIPv4('127.0.0.1')).toBeNull();
    expect(mappedIPv4('::1')).toBeNull();
    expect(mappedIPv4('::ffff:1:2')).toBeNull();
  });
});
