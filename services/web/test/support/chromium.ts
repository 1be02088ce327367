import { existsSync } from 'node:fs';

/** Debian's Chromium (or CHROMIUM_PATH): puppeteer-core drives it and downloads no browser of its own. */
export const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p): p is string => p !== undefined && p !== '' && existsSync(p));

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'];
