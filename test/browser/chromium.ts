// Debian's chromium, headless, driven over the Chrome DevTools Protocol on
// the pipe it opens with --remote-debugging-pipe (fd 3 in, fd 4 out, one
// JSON message per NUL-terminated frame): no WebSocket client, no browser
// download, nothing to install from npm.
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { ChromiumPage } from './chromium-page';

/** The flags issue 12 asks for, plus what keeps a fresh profile quiet. */
const FLAGS = [
	'--headless',
	'--no-sandbox',
	'--disable-gpu',
	'--disable-background-networking',
	'--use-fake-device-for-media-stream',
	'--use-fake-ui-for-media-stream',
	'--no-first-run',
	'--no-default-browser-check',
	'--mute-audio',
	// A headless page is never visible: without these its timers and its
	// encoder would be throttled as a background tab's.
	'--disable-background-timer-throttling',
	'--disable-renderer-backgrounding',
	'--disable-backgrounding-occluded-windows',
	'--remote-debugging-pipe',
];

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

interface CdpMessage {
	id?: number;
	method?: string;
	params?: Record<string, unknown>;
	result?: Record<string, unknown>;
	error?: { message: string };
	sessionId?: string;
}

type EventListener = (params: Record<string, unknown>) => void;

/** Where chromium is: CHROMIUM_BIN, else Debian's path; undefined when not installed. */
export function findChromium(): string | undefined {
	const fromEnv = process.env.CHROMIUM_BIN;
	if (fromEnv) return fs.existsSync(fromEnv) ? fromEnv : undefined;
	return CANDIDATES.find((p) => fs.existsSync(p));
}

export class ChromiumBrowser {
	readonly #process: ChildProcess;
	readonly #userDataDir: string;
	readonly #input: Writable;
	readonly #pending = new Map<number, { resolve: (r: Record<string, unknown>) => void; reject: (e: Error) => void; method: string }>();
	/** Listeners by `${sessionId}|${method}`. */
	readonly #listeners = new Map<string, Set<EventListener>>();
	readonly #exited: Promise<void>;
	readonly #stderr: string[] = [];
	#nextId = 1;
	#buffer = '';
	#gone: Error | undefined;

	private constructor(executable: string) {
		// A fresh profile each run: nothing from a previous run (permissions, caches) leaks in.
		this.#userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mafalda-chromium-'));
		this.#process = spawn(executable, [...FLAGS, `--user-data-dir=${this.#userDataDir}`, 'about:blank'], {
			stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'],
		});
		const stdio = this.#process.stdio as unknown as [null, null, Readable, Writable, Readable];
		this.#input = stdio[3];
		stdio[4].setEncoding('utf8');
		stdio[4].on('data', (chunk: string) => this.#receive(chunk));
		stdio[2].setEncoding('utf8');
		stdio[2].on('data', (chunk: string) => {
			// Kept for error messages only: the last lines tell why it died.
			this.#stderr.push(chunk);
			if (this.#stderr.length > 50) this.#stderr.shift();
		});
		this.#input.on('error', () => undefined);
		this.#exited = new Promise((resolve) => {
			this.#process.once('exit', (code, signal) => {
				this.#fail(new Error(`chromium exited (code ${code}, signal ${signal}): ${this.#stderr.join('').slice(-2000)}`));
				resolve();
			});
			this.#process.once('error', (error) => {
				this.#fail(error);
				resolve();
			});
		});
	}

	static async launch(executable: string): Promise<ChromiumBrowser> {
		const browser = new ChromiumBrowser(executable);
		try {
			await browser.send('Browser.getVersion');
		} catch (error) {
			await browser.close();
			throw error;
		}
		return browser;
	}

	/** Opens a tab on `url` and resolves once its load event fired. */
	async newPage(url: string): Promise<ChromiumPage> {
		const { targetId } = (await this.send('Target.createTarget', { url: 'about:blank' })) as { targetId: string };
		const { sessionId } = (await this.send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
		const page = new ChromiumPage(this, targetId, sessionId);
		await page.open(url);
		return page;
	}

	async version(): Promise<string> {
		return String((await this.send('Browser.getVersion')).product);
	}

	send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> {
		if (this.#gone) return Promise.reject(this.#gone);
		const id = this.#nextId++;
		return new Promise((resolve, reject) => {
			this.#pending.set(id, { resolve, reject, method });
			this.#input.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
		});
	}

	/** Listens to a CDP event of one session (a page); returns the unsubscribe. */
	on(sessionId: string, method: string, listener: EventListener): () => void {
		const key = `${sessionId}|${method}`;
		let set = this.#listeners.get(key);
		if (!set) this.#listeners.set(key, (set = new Set()));
		set.add(listener);
		return () => set.delete(listener);
	}

	async close(): Promise<void> {
		if (!this.#gone) {
			await Promise.race([this.send('Browser.close').catch(() => undefined), this.#exited]);
		}
		const killer = setTimeout(() => this.#process.kill('SIGKILL'), 5000);
		await this.#exited;
		clearTimeout(killer);
		fs.rmSync(this.#userDataDir, { recursive: true, force: true });
	}

	#receive(chunk: string): void {
		this.#buffer += chunk;
		let end: number;
		while ((end = this.#buffer.indexOf('\0')) >= 0) {
			const frame = this.#buffer.slice(0, end);
			this.#buffer = this.#buffer.slice(end + 1);
			const message = JSON.parse(frame) as CdpMessage;
			if (message.id !== undefined) {
				const pending = this.#pending.get(message.id);
				this.#pending.delete(message.id);
				if (message.error) pending?.reject(new Error(`${pending.method}: ${message.error.message}`));
				else pending?.resolve(message.result ?? {});
			} else if (message.method) {
				for (const listener of this.#listeners.get(`${message.sessionId ?? ''}|${message.method}`) ?? []) listener(message.params ?? {});
			}
		}
	}

	#fail(error: Error): void {
		this.#gone ??= error;
		for (const { reject } of this.#pending.values()) reject(error);
		this.#pending.clear();
	}
}
