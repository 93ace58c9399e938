// Runs in every jest worker before any test file.
import * as os from 'node:os';
import * as path from 'node:path';
import { useCachedWorkerBinary } from '../lib/worker-binary';

// Tests import mediasoup directly too; point it at the worker that set-up built
// before any test file loads the module.
useCachedWorkerBinary();

// jest runs test files in parallel processes; each gets its own CPU slot locks
// so that test files do not starve each other. The test of the machine-wide
// limit sets its own shared folder.
process.env.MAFALDA_CPU_SLOT_DIR ??= path.join(os.tmpdir(), `mafalda-test-slots-${process.pid}`);
