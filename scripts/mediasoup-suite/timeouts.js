// mediasoup's tests give most tests a 2 s timeout, set for a dedicated CI
// host; on a shared 2-core machine starting a worker alone can take longer.
// This raises each test's timeout to at least mafalda's (60 s); what the tests
// assert is unchanged.
const MIN_TIMEOUT_MS = 60000;

for (const name of ['test', 'it']) {
	const original = global[name];
	const withTimeout = (title, fn, timeout) => original(title, fn, timeout === undefined ? undefined : Math.max(timeout, MIN_TIMEOUT_MS));
	global[name] = Object.assign(withTimeout, original);
}
