import { Args, runMain } from '../cli/args';
import { DEFAULT_PROFILE, publisherSsrcs } from '../sim/media-profile';
import { SimPool } from '../sim/pool';
import { SinkSocket } from '../sim/sink-socket';

/**
 * What the simulator's own threads cost per packet, without an SFU: the
 * sender thread's publishers send straight to 127.0.0.1, some to measured
 * receivers of a receiver thread (each reading `--streams` publishers, as a
 * mixed-day participant reads its room), the rest to a sink socket nobody
 * reads. Prints each thread's CPU time (schedstat, read inside the thread)
 * per packet it sent or read over a window, which is what the bench's
 * "simulator / worker" ratio is made of. A tool to compare simulator changes
 * run against run on a shared machine: CPU per packet, not rates.
 *
 *   node dist/bench/comparisons/sender-cost.js --publishers 300 --seconds 10
 */
async function main(): Promise<void> {
	const args = new Args();
	const publishers = args.num('publishers', 300);
	const measured = args.num('measured', 20);
	const streams = args.num('streams', 5);
	const warmupS = args.num('warmup', 2);
	const seconds = args.num('seconds', 10);
	const json = args.flag('json');
	args.assertAllKnown();

	const profile = DEFAULT_PROFILE;
	const pool = new SimPool(2);
	const sink = await SinkSocket.bind();
	try {
		const sender = pool.openSender(profile);
		const receivers = pool.openReceivers(profile.video.payloadType, profile.audio.payloadType);
		const ports = await receivers.api.add(measured);
		for (let index = 0; index < publishers; index++) {
			const ssrcs = publisherSsrcs(index);
			await sender.api.addPublisher({ index, videoSsrc: ssrcs.video, audioSsrc: ssrcs.audio });
			const r = Math.floor(index / streams);
			await sender.api.start(index, r < ports.length ? ports[r] : sink.port);
		}
		await new Promise((resolve) => setTimeout(resolve, warmupS * 1000));

		const sent = async (): Promise<{ packets: number; lateFrames: number }> => {
			const counters = await sender.api.counters();
			return {
				packets: counters.reduce((n, c) => n + c.videoPackets + c.audioPackets, 0),
				lateFrames: counters.reduce((n, c) => n + c.lateFrames, 0),
			};
		};
		const s0 = await sent();
		const sCpu0 = (await sender.api.cpuMs()) ?? Number.NaN;
		const r0 = (await receivers.api.totals()).packets;
		const rCpu0 = (await receivers.api.cpuMs()) ?? Number.NaN;
		await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
		const s1 = await sent();
		const sCpu1 = (await sender.api.cpuMs()) ?? Number.NaN;
		const r1 = (await receivers.api.totals()).packets;
		const rCpu1 = (await receivers.api.cpuMs()) ?? Number.NaN;

		const result = {
			publishers,
			seconds,
			sentPackets: s1.packets - s0.packets,
			senderCpuMs: sCpu1 - sCpu0,
			senderUsPerPacket: (1000 * (sCpu1 - sCpu0)) / Math.max(1, s1.packets - s0.packets),
			lateFrames: s1.lateFrames - s0.lateFrames,
			readPackets: r1 - r0,
			receiverCpuMs: rCpu1 - rCpu0,
			receiverUsPerPacket: (1000 * (rCpu1 - rCpu0)) / Math.max(1, r1 - r0),
		};
		if (json) console.log(JSON.stringify(result));
		else
			console.log(
				`sender: ${result.sentPackets} packets (${Math.round(result.sentPackets / seconds)}/s), ` +
					`${result.senderUsPerPacket.toFixed(2)} µs CPU per packet, ${result.lateFrames} late frames; ` +
					`measured receivers: ${result.readPackets} packets, ${result.receiverUsPerPacket.toFixed(2)} µs CPU per packet`,
			);
	} finally {
		await pool.close();
		await sink.close();
	}
}

runMain(main);
