import { isIPv4, isIPv6 } from 'node:net';

/** 127.0.0.0/8, ::1, or an IPv4-mapped 127.x address: traffic that never leaves the machine. */
export function isLoopbackAddress(address: string): boolean {
  if (isIPv4(address)) return address.startsWith('127.');
  if (isIPv6(address)) return address === '::1' || /^::ffff:127\./i.test(address);
  return false;
}
