/** Golem image hashes in the forms they travel in (configuration, the model registry). */

/**
 * A registry image hash as golem-js wants it (56 lower-case hex digits), from the forms
 * it travels in: bare or `0x`-prefixed, or right-padded with zeros to the 32 bytes the
 * contract stores. Undefined for anything else; all zeros means "no image".
 */
export function golemImageHash(text: string): string | undefined {
  const digits = text.trim().replace(/^0x/i, "").toLowerCase();
  if (/^[0-9a-f]{56}$/.test(digits)) return digits;
  if (/^[0-9a-f]{56}0{8}$/.test(digits)) return digits.slice(0, 56);
  return undefined;
}

/** True for the contract's "no image" value (empty or all zeros). */
export function isNoImageHash(text: string | undefined): boolean {
  return text === undefined || /^(0x)?0*$/i.test(text.trim());
}
