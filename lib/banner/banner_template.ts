/**
 * The banner a server sends first on each connection (with `--banner`), so
 * that a client behind a load balancer sees which backend answered: a
 * template of text and `{field}`s, or `json` for every field as one JSON
 * object. The rendered banner is one line: no value can end it early.
 *
 * @module
 */

/** The fields a template may name, in the order the JSON form lists them. */
export const BANNER_FIELDS = [
  "hostname",
  "pod",
  "namespace",
  "node",
  "server",
  "peer",
  "proxy_client",
  "sni",
  "alpn",
  "version",
] as const;

/** A field a template may name. */
export type BannerField = typeof BANNER_FIELDS[number];

/**
 * What a banner says, by field; an absent field shows as `-` (JSON:
 * `null`). Values that come from the environment or from the client (SNI)
 * are made safe when rendered, not here.
 */
export type BannerFacts = Partial<Record<BannerField, string>>;

/** The fields that are the same on every connection of a server. */
export type HostFacts = Pick<
  BannerFacts,
  "hostname" | "pod" | "namespace" | "node" | "version"
>;

/**
 * A parsed template: plain data (it travels to worker threads). `json`
 * renders every field; otherwise `parts` is text and fields in order.
 */
export type BannerTemplate =
  | { form: "json" }
  | { form: "text"; parts: BannerPart[] };

/** A piece of a text template. */
export type BannerPart = { text: string } | { field: BannerField };

/** The longest template accepted, in characters. */
export const MAX_TEMPLATE_LENGTH = 256;

/**
 * The longest value rendered, in characters; longer ones are cut. A DNS
 * name is at most 253, so hostnames, pod names and SNI fit.
 */
export const MAX_VALUE_LENGTH = 253;

/**
 * The most bytes a rendered banner can have, newline included. The worst
 * cases stay below it: a text template of 256 characters names at most
 * 51 fields (`{pod}`), 12,905 bytes with each at 253 characters; the JSON
 * form, every field at its longest and each character escaped
 * (`\u001b`), 15,302.
 * Real banners are a hundred bytes or so.
 */
export const MAX_BANNER_BYTES = 16 * 1024;

const FIELD_NAMES: ReadonlySet<string> = new Set(BANNER_FIELDS);

/**
 * Parses `--banner TEMPLATE`: `json`, or printable text with `{field}`s
 * (`{{` and `}}` for literal braces).
 *
 * @param text The template as given.
 * @returns The template, ready to render.
 * @throws {RangeError} Naming what is wrong: an unknown field, an
 * unclosed brace, a control character, or too long.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseBannerTemplate, renderBanner } from "./banner_template.ts";
 * const template = parseBannerTemplate("{pod} on {node}");
 * const line = renderBanner(template, { pod: "echo-7f9c", node: "worker-2" });
 * assert.equal(new TextDecoder().decode(line), "echo-7f9c on worker-2\n");
 * ```
 */
export function parseBannerTemplate(text: string): BannerTemplate {
  if (text === "json") return { form: "json" };
  if (text.length === 0) {
    throw new RangeError('Empty banner: expected a template such as "{pod}"');
  }
  if (text.length > MAX_TEMPLATE_LENGTH) {
    throw new RangeError(
      `Banner template too long: at most ${MAX_TEMPLATE_LENGTH} characters`,
    );
  }
  if (/[^\x20-\x7e]/.test(text)) {
    throw new RangeError(
      "Banner template: only printable ASCII (the banner is one line)",
    );
  }
  const parts: BannerPart[] = [];
  let literal = "";
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    if ((char === "{" || char === "}") && text[i + 1] === char) {
      literal += char;
      i++;
      continue;
    }
    if (char === "}") {
      throw new RangeError(
        `Banner template: "}" at ${
          i + 1
        } closes nothing (write "}}" for a brace)`,
      );
    }
    if (char !== "{") {
      literal += char;
      continue;
    }
    const end = text.indexOf("}", i);
    if (end < 0) {
      throw new RangeError(
        `Banner template: "{" at ${
          i + 1
        } is not closed (write "{{" for a brace)`,
      );
    }
    const name = text.slice(i + 1, end);
    if (!FIELD_NAMES.has(name)) {
      throw new RangeError(
        `Unknown banner field "{${name}}": expected one of ${
          BANNER_FIELDS.map((field) => `{${field}}`).join(", ")
        }, or json`,
      );
    }
    if (literal !== "") parts.push({ text: literal });
    literal = "";
    parts.push({ field: name as BannerField });
    i = end;
  }
  if (literal !== "") parts.push({ text: literal });
  return { form: "text", parts };
}

/**
 * The fields `template` shows: what a server must find out to render it.
 *
 * @param template A parsed template.
 * @returns Every field it names (all of them for `json`).
 */
export function bannerFields(template: BannerTemplate): Set<BannerField> {
  if (template.form === "json") return new Set(BANNER_FIELDS);
  return new Set(
    template.parts.flatMap((part) => "field" in part ? [part.field] : []),
  );
}

const encoder = new TextEncoder();

/**
 * The banner for one connection, as sent: one line, ending in `\n`.
 *
 * In the text form a character outside printable ASCII in a value shows
 * as `?`; the JSON form escapes it (`\u00e9`), so the line stays ASCII and
 * reads back exactly. Values longer than {@linkcode MAX_VALUE_LENGTH} are
 * cut.
 *
 * @param template A parsed template.
 * @param facts What the banner says.
 * @returns The line's bytes, at most {@linkcode MAX_BANNER_BYTES}.
 */
export function renderBanner(
  template: BannerTemplate,
  facts: BannerFacts,
): Uint8Array {
  if (template.form === "json") {
    const fields: Record<string, string | null> = {};
    for (const field of BANNER_FIELDS) {
      const value = facts[field];
      fields[field] = value === undefined ? null : clip(value);
    }
    return encoder.encode(
      JSON.stringify(fields).replace(/[^\x20-\x7e]/g, unicodeEscape) + "\n",
    );
  }
  let line = "";
  for (const part of template.parts) {
    if ("text" in part) line += part.text;
    else {
      const value = facts[part.field];
      line += value === undefined || value === ""
        ? "-"
        : clip(value).replace(/[^\x20-\x7e]/g, "?");
    }
  }
  return encoder.encode(line + "\n");
}

function clip(value: string): string {
  return value.length > MAX_VALUE_LENGTH
    ? value.slice(0, MAX_VALUE_LENGTH)
    : value;
}

function unicodeEscape(char: string): string {
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

/**
 * The template as it would be typed: `json`, or the text with its fields
 * in braces (what `/info` shows).
 *
 * @param template A parsed template.
 * @returns The template's text; it parses back to the same template.
 */
export function formatBannerTemplate(template: BannerTemplate): string {
  if (template.form === "json") return "json";
  return template.parts.map((part) =>
    "text" in part
      ? part.text.replaceAll("{", "{{").replaceAll("}", "}}")
      : `{${part.field}}`
  ).join("");
}
