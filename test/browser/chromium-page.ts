// One tab of ChromiumBrowser: navigates, evaluates script in the page, keeps
// the page's console and uncaught errors for the test's failure messages.
import type { ChromiumBrowser } from './chromium';

const LOAD_TIMEOUT_MS = 30_000;

interface RemoteObject {
	type: string;
	value?: unknown;
	description?: string;
}

interface EvaluateResult {
	result: RemoteObject;
	exceptionDetails?: { text: string; exception?: RemoteObject };
}

export class ChromiumPage {
	/** The page's console output and uncaught errors, in order. */
	readonly log: string[] = [];
	#closed = false;

	constructor(
		private readonly browser: ChromiumBrowser,
		readonly targetId: string,
		private readonly sessionId: string,
	) {
		browser.on(sessionId, 'Runtime.consoleAPICalled', (params) => {
			const args = (params.args as RemoteObject[]).map((a) => (a.value !== undefined ? String(a.value) : (a.description ?? a.type)));
			this.log.push(`console.${String(params.type)}: ${args.join(' ')}`);
		});
		browser.on(sessionId, 'Runtime.exceptionThrown', (params) => {
			const details = params.exceptionDetails as EvaluateResult['exceptionDetails'];
			this.log.push(`uncaught: ${details?.exception?.description ?? details?.text ?? 'unknown'}`);
		});
	}

	/** Navigates to `url` and resolves once its load event fired (its scripts ran). */
	async open(url: string): Promise<void> {
		await this.browser.send('Runtime.enable', {}, this.sessionId);
		await this.browser.send('Page.enable', {}, this.sessionId);
		let timer: NodeJS.Timeout | undefined;
		const loaded = new Promise<void>((resolve, reject) => {
			const off = this.browser.on(this.sessionId, 'Page.loadEventFired', () => {
				off();
				resolve();
			});
			timer = setTimeout(() => {
				off();
				reject(new Error(`${url} did not load within ${LOAD_TIMEOUT_MS} ms; page log:\n${this.log.join('\n')}`));
			}, LOAD_TIMEOUT_MS);
		});
		// Handled below; this only keeps a timeout during navigation from being unhandled.
		loaded.catch(() => undefined);
		try {
			const { errorText } = (await this.browser.send('Page.navigate', { url }, this.sessionId)) as { errorText?: string };
			if (errorText) throw new Error(`navigating to ${url}: ${errorText}`);
			await loaded;
		} finally {
			clearTimeout(timer);
		}
	}

	/**
	 * Evaluates `expression` in the page, awaiting the promise it gives, and
	 * returns its value as JSON. A throw in the page rejects with its message
	 * and the page's log.
	 */
	async evaluate<T>(expression: string): Promise<T> {
		const { result, exceptionDetails } = (await this.browser.send(
			'Runtime.evaluate',
			{ expression, awaitPromise: true, returnByValue: true },
			this.sessionId,
		)) as unknown as EvaluateResult;
		if (exceptionDetails) {
			const why = exceptionDetails.exception?.description ?? exceptionDetails.text;
			throw new Error(`in the page: ${why}\npage log:\n${this.log.join('\n')}`);
		}
		return result.value as T;
	}

	/** Closes the tab the way a user does: the page's connections go with it. */
	async close(): Promise<void> {
		if (this.#closed) return;
		this.#closed = true;
		await this.browser.send('Target.closeTarget', { targetId: this.targetId });
	}
}
