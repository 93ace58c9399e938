import { Args, runMain } from './cli/args';
import { CAPACITY_HELP, capacitySummary, capacityTable, readCapacityOptions, runCapacity, writeCapacityResult, type CapacityResult } from './comparisons/capacity';
import { MIXED_DAY_HELP, mixedDaySummary, mixedDayTable, readMixedDayOptions, runMixedDay, writeMixedDayResult, type MixedDayResult } from './comparisons/mixed-day';
import { renderTargets, steadinessRows, targetsTable } from './comparisons/targets';
import { onceProbe } from './comparisons/calibration';
import { CONTROL_PLANE_DEFAULTS, controlPlaneSummary, controlPlaneTable, runControlPlane, type ControlPlaneResult } from './comparisons/control-plane';
import { GROWTH_DEFAULTS, growthSummary, growthTable, placementTable, runCostGrowth, type GrowthResult } from './comparisons/cost-growth';
import { PIPE_DEFAULTS, pipeOverheadSummary, pipeOverheadTable, runPipeOverhead, type PipeOverheadResult } from './comparisons/pipe-overhead';
import { CLUSTER_DEFAULTS, clusterTable, runClusterBench, type ClusterBenchResult } from './comparisons/cluster';
import { CLUSTER_SIM_DEFAULTS, clusterSimTable, runClusterSim, type ClusterSimResult } from './comparisons/cluster-sim';
import { CLUSTER_FAULTS_DEFAULTS, clusterFaultsTable, runClusterFaults, type ClusterFaultsResult } from './comparisons/cluster-faults';
import { backgroundBusyPct, machineInfo, machineLine, sharedCpuWarning } from './report/machine';
import { LiveLine } from './report/progress';
import { writeJsonResult } from './report/results-file';
import { readHistory, recordRun } from './report/run-history';

/** The simulation's size in `npm run bench`: the target, which takes seconds here since opening a shard reads an order (bench/README.md). */
const SIM = { nodes: CLUSTER_SIM_DEFAULTS.nodes, viewers: CLUSTER_SIM_DEFAULTS.viewers, rooms: CLUSTER_SIM_DEFAULTS.rooms };

const PARTS = ['capacity', 'mixed', 'control', 'pipe', 'growth', 'cluster', 'cluster-sim', 'cluster-faults'] as const;
type Part = (typeof PARTS)[number];

const HELP = `npm run bench [-- options]: the five comparisons, with plain mediasoup as the baseline, and the cluster scenario and simulation.

  --only LIST            among capacity, mixed, control, pipe, growth, cluster, cluster-sim, cluster-faults (default all, in that order)
Capacity (1) and mixed day (5):
${CAPACITY_HELP}
${MIXED_DAY_HELP}
Control plane (2):
  --cp-consumers N       consumers created per configuration (default ${CONTROL_PLANE_DEFAULTS.consumers})
Pipe overhead (3):
  --pipe-receivers N     receivers of the broadcast, half of them piped (default ${PIPE_DEFAULTS.receivers})
Cost growth (4) and placement decision time (2):
  --growth-consumers N   consumers at the end (default ${GROWTH_DEFAULTS.consumers}); placement is timed at 0, 1,000, 10,000, 100,000 and N
Cluster (6): three mafalda-node processes, one worker each, a broadcast across them
  --cluster-viewers-per-node N   (default ${CLUSTER_DEFAULTS.viewersPerNode})
Cluster simulation (7): the real balancer and Redis producer index over simulated nodes
  --sim-nodes N          simulated nodes of ${CLUSTER_SIM_DEFAULTS.workersPerNode} workers (default ${SIM.nodes}, the issue's target)
  --sim-viewers N        viewers (default ${SIM.viewers})
  --sim-rooms N          rooms of mixed size (default ${SIM.rooms})
Cluster faults (8): a relay node killed under a live stream (A -> B -> C), detection and media gap
  --faults-repetitions N (default ${CLUSTER_FAULTS_DEFAULTS.repetitions}); then the relay producer's CPU per packet

Each comparison also runs alone: node dist/bench/comparisons/<capacity|control-plane|pipe-overhead|cost-growth|cluster|cluster-sim|cluster-faults>.js --help`;

/**
 * Consumers the cost-growth comparison grows to inside `npm run bench`: enough
 * for memory per consumer and the flatness of creation time, and it keeps the
 * whole run within 15 minutes here (the comparison alone defaults to 100,000).
 */
const RUN_ALL_GROWTH_CONSUMERS = 20_000;

/** Minutes each part took, so that the 15-minute budget shows where it goes. */
const sectionMinutes: Record<string, number> = {};
let openSection: { title: string; started: number } | undefined;

function section(title?: string): void {
	if (openSection) {
		const minutes = (Date.now() - openSection.started) / 60_000;
		sectionMinutes[openSection.title] = minutes;
		console.log(`(${openSection.title}: ${minutes.toFixed(1)} min)`);
	}
	openSection = title === undefined ? undefined : { title, started: Date.now() };
	if (title !== undefined) console.log(`\n=== ${title} ===`);
}

async function main(): Promise<void> {
	const args = new Args();
	if (args.help) return console.log(HELP);
	const parts = args.list<Part>('only', PARTS, PARTS);
	const capacityOptions = readCapacityOptions(args);
	const mixedOptions = readMixedDayOptions(args, capacityOptions.backends);
	const cpConsumers = args.num('cp-consumers', CONTROL_PLANE_DEFAULTS.consumers);
	const pipeReceivers = args.num('pipe-receivers', PIPE_DEFAULTS.receivers);
	const growthConsumers = args.num('growth-consumers', RUN_ALL_GROWTH_CONSUMERS);
	const clusterViewers = args.num('cluster-viewers-per-node', CLUSTER_DEFAULTS.viewersPerNode);
	const simNodes = args.num('sim-nodes', SIM.nodes);
	const simViewers = args.num('sim-viewers', SIM.viewers);
	const simRooms = args.num('sim-rooms', SIM.rooms);
	const faultsRepetitions = args.num('faults-repetitions', CLUSTER_FAULTS_DEFAULTS.repetitions);
	args.assertAllKnown();

	const machine = machineInfo();
	const background = await backgroundBusyPct();
	const started = Date.now();
	console.log(`mafalda bench: ${parts.join(', ')}`);
	console.log(`machine: ${machineLine(machine)}`);
	if (background !== undefined) console.log(`machine busy before the run (other processes): ${background.toFixed(0)}%${background > 25 ? '  <- figures will be lower than on an idle machine' : ''}`);
	console.log(sharedCpuWarning(machine));

	const line = new LiveLine();
	// One calibration probe sizes both the broadcast and the mixed day (it runs only if one of them needs it).
	const probe = onceProbe(capacityOptions, line);
	let capacity: CapacityResult | undefined;
	let mixed: MixedDayResult | undefined;
	let cluster: ClusterBenchResult | undefined;
	let clusterSim: ClusterSimResult | undefined;
	let clusterFaults: ClusterFaultsResult | undefined;
	let control: ControlPlaneResult | undefined;
	let pipe: PipeOverheadResult | undefined;
	let growth: GrowthResult | undefined;

	if (parts.includes('capacity')) {
		section('1. Capacity: largest broadcast under 1% loss and 50 ms p99');
		capacity = await runCapacity(capacityOptions, line, probe);
		console.log(capacityTable(capacity));
		for (const file of writeCapacityResult(capacity)) console.log(`wrote ${file}`);
	}
	if (parts.includes('mixed')) {
		section('5. Mixed day: small meetings next to a broadcast');
		mixed = await runMixedDay(mixedOptions, line, probe);
		console.log(mixedDayTable(mixed));
		for (const file of writeMixedDayResult(mixed)) console.log(`wrote ${file}`);
	}
	if (parts.includes('control')) {
		section('2. Control plane: consumers created per second');
		control = await runControlPlane({ ...CONTROL_PLANE_DEFAULTS, consumers: cpConsumers }, (s) => line.log(s));
		console.log(controlPlaneTable(control));
		console.log(`wrote ${writeJsonResult('control-plane', { machine, ...control })}`);
	}
	if (parts.includes('pipe')) {
		section('3. Pipe overhead: one pipe hop, latency and CPU');
		pipe = await runPipeOverhead({ ...PIPE_DEFAULTS, receivers: pipeReceivers, threads: capacityOptions.threads }, line);
		line.log(pipeOverheadTable(pipe));
		console.log(`wrote ${writeJsonResult('pipe-overhead', { machine, ...pipe })}`);
	}
	if (parts.includes('growth')) {
		section('4. Cost growth (and 2. placement decision time vs load table size)');
		const placementAt = [...new Set([...GROWTH_DEFAULTS.placementAt.filter((n) => n <= growthConsumers), growthConsumers])];
		growth = await runCostGrowth({ ...GROWTH_DEFAULTS, consumers: growthConsumers, placementAt }, line);
		console.log(growthTable(growth));
		console.log(placementTable(growth));
		console.log(`wrote ${writeJsonResult('cost-growth', { machine, ...growth })}`);
	}

	if (parts.includes('cluster')) {
		section('6. Cluster: three mafalda nodes on this machine, a broadcast across them');
		cluster = await runClusterBench({ ...CLUSTER_DEFAULTS, viewersPerNode: clusterViewers }, (s) => line.log(s));
		console.log(clusterTable(cluster));
		console.log(`wrote ${writeJsonResult('cluster', { machine, ...cluster })}`);
	}
	if (parts.includes('cluster-sim')) {
		section('7. Cluster simulation: the real balancer and Redis index, simulated nodes, no media');
		clusterSim = await runClusterSim({ ...CLUSTER_SIM_DEFAULTS, nodes: simNodes, viewers: simViewers, rooms: simRooms }, (s) => line.log(s));
		console.log(clusterSimTable(clusterSim));
		console.log(`wrote ${writeJsonResult('cluster-sim', { machine, ...clusterSim })}`);
	}
	if (parts.includes('cluster-faults')) {
		section('8. Cluster faults: a relay node killed under a live stream, repeated');
		clusterFaults = await runClusterFaults({ ...CLUSTER_FAULTS_DEFAULTS, repetitions: faultsRepetitions }, (s) => line.log(s));
		console.log(clusterFaultsTable(clusterFaults));
		console.log(`wrote ${writeJsonResult('cluster-faults', { machine, ...clusterFaults })}`);
	}

	section();
	section(`Ratios (baseline: plain mediasoup), ${((Date.now() - started) / 60_000).toFixed(1)} min`);
	if (capacity) console.log(`1. ${capacitySummary(capacity)}`);
	if (control) for (const l of controlPlaneSummary(control).split('\n')) console.log(`2. ${l}`);
	if (growth) console.log(`2. ${growthSummary(growth).split('\n')[2]}`);
	if (pipe) console.log(`3. ${pipeOverheadSummary(pipe)}`);
	if (growth) for (const l of growthSummary(growth).split('\n').slice(0, 2)) console.log(`4. ${l}`);
	if (mixed) console.log(`5. ${mixedDaySummary(mixed)}`);
	const minutes = (Date.now() - started) / 60_000;
	const targets = targetsTable({ capacity, mixed, control, growth });
	// Only whole runs go side by side (a partial one, --only, is not the same
	// measurement); the broadcast's steadiness compares every run that ramped
	// it, on the same kind of machine, back to back.
	const whole = parts.length === PARTS.length;
	const machineKey = `${machine.cpuModel}, ${machine.cores} cores`;
	if (capacity) targets.push(...steadinessRows(targets, readHistory().filter((r) => r.machine === machineKey)));
	console.log(`\nTargets (issue 9), this run (${minutes.toFixed(1)} min):\n${renderTargets(targets)}`);
	if (capacity) {
		const history = recordRun({ at: new Date().toISOString(), minutes, backgroundBusyPct: background, machine: machineKey, whole, targets });
		if (whole) console.log(`\nThe last whole runs side by side (${history.file}):\n${history.table}`);
	}
	console.log(`wrote ${writeJsonResult('bench', { machine, backgroundBusyPct: background, minutes, sectionMinutes, targets, capacity, mixed, control, pipe, growth, cluster, clusterSim, clusterFaults })}`);
}

runMain(main);
