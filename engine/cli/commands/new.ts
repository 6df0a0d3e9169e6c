/** `c2c new <vendor>`: scaffolds a bundle that validates and passes its fixtures at once. */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { displayPath } from "../bundles.ts";
import { CliError, type CliConsole } from "../io.ts";
import { scaffoldFiles, VENDOR_ID } from "../scaffold.ts";
import { pathExists } from "../../util/fs.ts";

export interface NewOptions {
  dir?: string;
  /** Add a webhooks section and signed webhook fixtures. */
  webhook?: boolean;
}

export async function newCommand(vendor: string, opts: NewOptions, con: CliConsole): Promise<number> {
  if (!VENDOR_ID.test(vendor)) {
    throw new CliError(`vendor id ${JSON.stringify(vendor)} must be lower-case letters, digits and dashes, starting with a letter (e.g. "acme" or "acme-cloud")`);
  }
  const parent = resolve(con.cwd, opts.dir ?? "mappings");
  const bundleDir = join(parent, vendor);
  if (await pathExists(bundleDir)) {
    throw new CliError(`${displayPath(bundleDir, con.cwd)} already exists; nothing was written (choose another name or remove the folder)`);
  }
  const shown = displayPath(bundleDir, con.cwd);
  const files = scaffoldFiles({ id: vendor, bundleDir, displayDir: shown, webhook: opts.webhook === true });
  for (const [rel, content] of Object.entries(files)) {
    const path = join(bundleDir, rel);
    await mkdir(dirname(path), { recursive: true });
    // "wx": never overwrite, even if something appeared since the check above.
    await writeFile(path, content, { flag: "wx" });
  }
  const { out } = con;
  out.line(`${out.c.green("✓")} created ${shown}/`);
  for (const rel of Object.keys(files).sort()) out.line(`    ${rel}`);
  out.line("");
  out.line("Next:");
  out.line(`  1. Replace the ${vendor}.example addresses, paths and fields in ${shown}/connector.yaml with the vendor's (docs/authoring-guide.md).`);
  out.line(`  2. c2c validate ${shown}`);
  out.line(`  3. c2c test ${shown}`);
  out.line(`  4. c2c invoke ${shown} ${shown}/requests/discover-devices.json --trace`);
  return 0;
}
