/**
 * Market properties in yagna's "flat convention" (market-api.yaml DemandOfferBase): keys
 * are full dotted names. yagna accepts nested objects too and flattens them
 * (ya-agreement-utils `flatten`); arrays are values, not nesting.
 */

export type Properties = Record<string, unknown>;

export function flattenProperties(value: unknown, prefix = "", into: Properties = {}): Properties {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    if (prefix !== "") into[prefix] = value;
    return into;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0 && prefix !== "") into[prefix] = {};
  for (const [key, child] of entries) flattenProperties(child, prefix === "" ? key : `${prefix}.${key}`, into);
  return into;
}

/** A property as a number (yagna reads numeric properties from JSON numbers only). */
export function numberProperty(properties: Properties, key: string): number | undefined {
  const value = properties[key];
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

export function stringProperty(properties: Properties, key: string): string | undefined {
  const value = properties[key];
  return typeof value === "string" ? value : undefined;
}
