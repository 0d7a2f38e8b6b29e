// The Account Control Center in a real browser: Debian's headless Chromium
// driven by Playwright (playwright-core). Started by
// tests/integration/test_acc_browser.py, which runs hostmaild, gives this
// script a JSON file (node acc_browser.mjs CONFIG.json) and checks, at each
// checkpoint, what the browser saw against the server itself: hostmailctl,
// SMTP and POP3 with Python's smtplib and poplib.
//
// Protocol on stdout: a line "@@ {json}" is a checkpoint; the script then
// waits for one line on stdin, "ok" to go on (anything else stops it).
// The last checkpoint is {"checkpoint": "done", "screenshots": [...]}.
// Any failed expectation here exits non-zero with the reason on stderr.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { chromium } from 'playwright-core';

const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const base = cfg.base;                       // https://127.0.0.1:PORT
const replies = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const screenshots = [];

async function checkpoint(name, data = {}) {
  process.stdout.write('@@ ' + JSON.stringify({ checkpoint: name, ...data }) + '\n');
  const { value, done } = await replies.next();
  if (done || value.trim() !== 'ok')
    throw new Error(`the test stopped at checkpoint ${name}: ${done ? 'no answer' : value}`);
}

async function shot(page, name) {
  const file = path.join(cfg.artifacts, `${String(screenshots.length + 1).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  screenshots.push(file);
}

function pathOf(page) {
  return new URL(page.url()).pathname;
}

// The settings block of one mailbox on E-Mail Management, as rendered.
function mailboxSection(page, address) {
  return page.locator('section.mailbox').filter({
    has: page.getByRole('heading', { level: 2, name: address, exact: true }),
  });
}

async function settingsOf(page, address) {
  // under a closed <details>: its text as the page holds it
  return mailboxSection(page, address).locator('pre.settings').textContent();
}

// The recommended server of one side ("in" or "out") as its table shows it.
async function serverTable(page, address, side) {
  const t = mailboxSection(page, address).locator(`table.server[id$="-${side}"]`);
  const out = {};
  for (const f of ['host', 'port', 'security', 'auth', 'username'])
    out[f] = (await t.locator(`[data-field="${f}"]`).innerText()).trim();
  return out;
}

async function flash(page) {
  return (await page.locator('#flash').innerText()).trim();
}

async function logIn(page, account, password) {
  await page.getByLabel('Account name').fill(account);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForLoadState();
}

async function fitsPhone(page) {
  return page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
}

const browser = await chromium.launch({
  executablePath: cfg.chromium,
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--disable-dev-shm-usage',
    // Trust exactly the test server's key (its certificate is signed by the
    // test's own CA, which Chromium's certificate store does not hold).
    `--ignore-certificate-errors-spki-list=${cfg.spki}`,
  ],
});
try {
  const context = await browser.newContext({ viewport: { width: 1024, height: 768 } });
  // the copy buttons write to the clipboard; the test reads it back
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
  const page = await context.newPage();
  page.setDefaultTimeout(20000);

  // ---- a wrong password, then the right one ----
  await page.goto(base + '/');
  assert.equal(pathOf(page), '/login');
  await shot(page, 'login');

  await logIn(page, cfg.account, 'not-the-password');
  assert.equal(pathOf(page), '/login');
  const loginError = (await page.locator('#error').innerText()).trim();
  assert.equal(loginError, 'Wrong account name or password.');
  assert.ok(!(await context.cookies()).some((c) => c.name === '__Host-hm_session'));
  await shot(page, 'login-failed');
  await checkpoint('login-failed', { error: loginError });

  await logIn(page, cfg.account, cfg.password);
  assert.equal(pathOf(page), '/overview');
  const overview = {};
  for (const id of ['account', 'status', 'server', 'smtp_host', 'domains'])
    overview[id] = (await page.locator('#' + id).innerText()).trim();
  const session = (await context.cookies()).find((c) => c.name === '__Host-hm_session');
  assert.ok(session, 'no session cookie after login');
  await shot(page, 'overview');
  await checkpoint('overview', {
    overview,
    cookie: { httpOnly: session.httpOnly, secure: session.secure, sameSite: session.sameSite,
              expires: session.expires, length: session.value.length },
  });

  // ---- E-Mail Management: the settings of an existing mailbox ----
  await page.getByRole('link', { name: 'E-Mail Management' }).first().click();
  await page.waitForLoadState();
  assert.equal(pathOf(page), '/mail');
  const shown = {};
  for (const h of await page.locator('section.mailbox h2').allInnerTexts())
    shown[h] = await settingsOf(page, h);
  await shot(page, 'mail');
  await checkpoint('settings', { settings: shown });

  // ---- the tables a mail program's setup screen asks for, and a copy ----
  const first = Object.keys(shown).sort()[0];
  const tables = { in: await serverTable(page, first, 'in'), out: await serverTable(page, first, 'out') };
  const copyButton = mailboxSection(page, first).locator('table.server[id$="-out"] tr')
    .filter({ hasText: 'Port' }).getByRole('button', { name: 'Copy' });
  await page.bringToFront();
  await page.evaluate(() => navigator.clipboard.writeText('nothing copied yet'));
  await copyButton.click();
  // the write is asynchronous: wait until the clipboard holds something else
  await page.waitForFunction(async () => (await navigator.clipboard.readText()) !== 'nothing copied yet');
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  const guides = {};
  for (const g of ['thunderbird', 'outlook', 'apple-mail', 'ios', 'android']) {
    await page.goto(`${base}/help/${g}?address=${encodeURIComponent(first)}`);
    guides[g] = (await page.locator('ol.steps').innerText()).trim();
    await shot(page, `help-${g}`);
  }
  await page.goto(base + '/mail');
  await checkpoint('tables', { address: first, tables, copied, guides });

  // ---- add a mailbox through the form ----
  const added = `${cfg.new_local}@${cfg.domain}`;
  await page.getByLabel('Name (the part before the @)').fill(cfg.new_local);
  await page.getByLabel('Domain').selectOption(cfg.domain);
  const addForm = page.locator('#add');
  await addForm.getByLabel('New password').fill(cfg.new_password);
  await addForm.getByLabel('Repeat the password').fill(cfg.new_password);
  await addForm.getByRole('button', { name: 'Add mailbox' }).click();
  await page.waitForLoadState();
  assert.equal(pathOf(page), '/mail');
  const addedMsg = await flash(page);
  const addedSettings = await settingsOf(page, added);
  await shot(page, 'mailbox-added');
  // the test now sends mail with it (smtplib) and reads it (poplib)
  await checkpoint('mailbox-added', { message: addedMsg, address: added, settings: addedSettings });

  // ---- change its password with the form in its section ----
  const sec = mailboxSection(page, added);
  await sec.locator('summary', { hasText: 'Change the password' }).click();
  await sec.getByLabel('New password').fill(cfg.changed_password);
  await sec.getByLabel('Repeat the password').fill(cfg.changed_password);
  await sec.getByRole('button', { name: 'Change password' }).click();
  await page.waitForLoadState();
  const changedMsg = await flash(page);
  await shot(page, 'password-changed');
  await checkpoint('password-changed', { message: changedMsg, address: added });

  // ---- the POP3 logins above authorized this address to relay ----
  await page.getByRole('link', { name: 'POP-before-SMTP' }).click();
  await page.waitForLoadState();
  assert.equal(pathOf(page), '/relay');
  const grants = (await page.locator('li.grant').allInnerTexts()).map((t) => t.trim());
  await shot(page, 'relay');
  await checkpoint('relay', { grants });

  await page.getByRole('link', { name: 'Recipient budget' }).click();
  await page.waitForLoadState();
  assert.equal(pathOf(page), '/budget');
  const budget = {};
  for (const id of ['hour', 'day', 'per_message'])
    budget[id] = (await page.locator('#' + id).innerText()).trim();
  await shot(page, 'budget');
  await checkpoint('budget', { budget });

  // ---- remove a mailbox: a confirmation page, then the removal ----
  await page.getByRole('link', { name: 'E-Mail Management' }).first().click();
  await page.waitForLoadState();
  await mailboxSection(page, cfg.remove).getByRole('link', { name: /Remove this mailbox/ }).click();
  await page.waitForLoadState();
  assert.equal(pathOf(page), '/mail/remove');
  assert.equal((await page.locator('#address').innerText()).trim(), cfg.remove);
  await shot(page, 'remove-confirm');
  await page.getByRole('button', { name: `Remove ${cfg.remove}` }).click();
  await page.waitForLoadState();
  assert.equal(pathOf(page), '/mail');
  const removedMsg = await flash(page);
  const left = await page.locator('section.mailbox h2').allInnerTexts();
  await shot(page, 'mailbox-removed');
  await checkpoint('mailbox-removed', { message: removedMsg, mailboxes: left });

  // ---- a forged form on another site, in the same logged-in browser ----
  // SameSite=Strict keeps the session cookie off the cross-site POST and
  // the token cannot be guessed: nothing may change.
  const evil = await context.newPage();
  await evil.setContent(
    `<form method="post" action="${base}/mail/add">` +
    '<input name="csrf" value="' + '0'.repeat(64) + '">' +
    `<input name="local" value="mallory"><input name="domain" value="${cfg.domain}">` +
    '<input name="password" value="mallory-pw-1"><input name="password2" value="mallory-pw-1">' +
    '<button type="submit">Win a prize</button></form>');
  await Promise.all([evil.waitForURL(base + '/mail/add'), evil.getByRole('button').click()]);
  const forged = (await evil.locator('main').innerText()).trim();
  await shot(evil, 'forged-form-refused');
  await evil.close();
  await checkpoint('forged-form', { page: forged });

  // ---- a phone: nothing scrolls sideways ----
  await page.setViewportSize({ width: 390, height: 844 });
  const wide = [];
  for (const p of ['/overview', '/mail', '/relay', '/budget', '/account', '/help/thunderbird',
                   '/help/outlook', '/help/apple-mail', '/help/ios', '/help/android']) {
    await page.goto(base + p);
    if (!(await fitsPhone(page)))
      wide.push(p);
  }
  await page.goto(base + '/mail');
  await shot(page, 'mail-phone');
  await page.goto(base + '/help/ios');
  await shot(page, 'help-ios-phone');

  // ---- log out: the session is gone ----
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.waitForLoadState();
  assert.equal(pathOf(page), '/login');
  if (!(await fitsPhone(page)))
    wide.push('/login');
  await shot(page, 'logged-out-phone');
  await page.goto(base + '/overview');
  const afterLogout = pathOf(page);
  await checkpoint('phone-and-logout', { too_wide: wide, after_logout: afterLogout });

  // ---- a legacy account sees its numbered server ----
  await page.setViewportSize({ width: 1024, height: 768 });
  await logIn(page, cfg.legacy_account, cfg.legacy_password);
  assert.equal(pathOf(page), '/overview');
  const legacyHost = (await page.locator('#smtp_host').innerText()).trim();
  await shot(page, 'legacy-overview');
  await page.getByRole('link', { name: 'E-Mail Management' }).first().click();
  await page.waitForLoadState();
  const legacy = {};
  for (const h of await page.locator('section.mailbox h2').allInnerTexts())
    legacy[h] = await settingsOf(page, h);
  await shot(page, 'legacy-mail');
  await checkpoint('legacy', { smtp_host: legacyHost, settings: legacy });

  await checkpoint('done', { screenshots });
  await context.close();
} finally {
  await browser.close();
}
