import { formatEndpoint, mappedIPv4 } from '../src/endpoint';

describe('endpoint formatting', () => {
  test('IPv4 is ip:port, IPv6 gets brackets', () => {
    expect(formatEndpoint('127.0.0.1', 5050)).toBe('127.0.0.1:5050');
    expect(formatEndpoint('::1', 5050)).toBe('[::1]:5050');
    expect(formatEndpoint('::ffff:127.0.0.1', 40000)).toBe('[::ffff:127.0.0.1]:40000');
  });

  test('finds the IPv4 address inside an IPv4-mapped IPv6 address, and only there', () => {
    expect(mappedIPv4('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(mappedIPv4('::FFFF:10.0.0.7')).toBe('10.0.0.7');
    expect(mappedIPv4('127.0.0.1')).toBeNull();
    expect(mappedIPv4('::1')).toBeNull();
    expect(mappedIPv4('::ffff:1:2')).toBeNull();
  });
});
