// Browses a local site in the system Chromium through playwright-core and writes the HAR that
// playwright's recordHar makes. Usage: node chromium_har.mjs URL OUT.har
import { createRequire } from "node:module";
const require = createRequire(process.env.TAPEDECK_NPM_DIR + "/package.json");
const { chromium } = require("playwright-core");

const [url, out] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run"],
  timeout: 30000,
});
try {
  const context = await browser.newContext({ recordHar: { path: out, content: "embed" } });
  const page = await context.newPage();
  await page.goto(url, { waitUntil: "networkidle", timeout: 30000 });
  await page.waitForFunction(() => document.title === "loaded", null, { timeout: 10000 });
  await context.close();
} finally {
  await browser.close();
}
