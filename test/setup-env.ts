// Tests import mediasoup directly too; point it at the worker that set-up built
// before any test file loads the module.
import * as path from 'node:path';
import { useCachedWorkerBinary } from '../lib/worker-binary';

useCachedWorkerBinary(path.dirname(require.resolve('mediasoup/package.json')));
