'use strict';
// Builds mediasoup's C++ worker from the sources shipped in the npm package,
// against Debian's libraries, with no network. mediasoup's own postinstall
// downloads a prebuilt binary and lets meson fetch its C++ dependencies; none of
// that is reachable here, so every `subprojects/*.wrap` is replaced by a small
// local subproject that hands meson the system library under the variable names
// worker/meson.build reads. One recipe serves every mediasoup this was tested
// with (3.14.16 and 3.27.1): the worker's meson.build only opens the
// subprojects it asks for, so the stubs for the other version lie unused.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { cacheRoot, cachedWorkerDir, cachedWorkerBin } = require('./worker-cache');

const EMPTY_C = '/* Placeholder: meson needs a static library to link_whole; the code comes from the system library. */\nint mafalda_stub_symbol_@NAME@;\n';

// name -> { options the parent passes via default_options, meson body }
const SUBPROJECTS = {
	openssl: {
		options: [],
		body: `openssl_dep = dependency('openssl')
libcrypto_lib = static_library('mafalda_crypto_stub', 'empty.c')
libssl_lib = static_library('mafalda_ssl_stub', 'empty.c')`,
	},
	libuv: {
		options: ["option('build_tests', type: 'boolean', value: false)", "option('build_benchmarks', type: 'boolean', value: false)"],
		body: `libuv_dep = dependency('libuv')
libuv = static_library('mafalda_uv_stub', 'empty.c')`,
	},
	// mediasoup 3.14: a libsrtp "3.0-alpha" fork.
	libsrtp2: srtpSubproject('libsrtp2', 'srtp-compat.h'),
	// mediasoup 3.27: libsrtp 3 and its opaque policy object.
	libsrtp3: srtpSubproject('libsrtp3', 'srtp3-compat.h'),
	// mediasoup 3.14 only: 3.20 replaced usrsctp with its own SCTP stack.
	usrsctp: {
		options: ["option('sctp_build_programs', type: 'boolean', value: false)"],
		body: `usrsctp_dep = dependency('usrsctp')
usrsctp = static_library('mafalda_usrsctp_stub', 'empty.c')`,
	},
	// Only deps/libwebrtc (its bandwidth estimator) uses abseil. mediasoup pins
	// 20240722 since 3.14.15; the few containers libwebrtc takes from it are in
	// Debian's 20220623 with the same API.
	'abseil-cpp': {
		options: [],
		body: `absl_container_dep = declare_dependency(dependencies: [
  dependency('absl_flat_hash_map'), dependency('absl_flat_hash_set'), dependency('absl_btree'),
  dependency('absl_inlined_vector'), dependency('absl_memory'),
])
absl_strings_dep = dependency('absl_strings')
absl_types_dep = declare_dependency(dependencies: [dependency('absl_optional'), dependency('absl_variant')])
absl_container_lib = static_library('mafalda_absl_stub', 'empty.c')`,
	},
	catch2: {
		options: [],
		// Only mediasoup's own C++ test binary uses catch2; mafalda never builds it.
		body: `catch2_dep = declare_dependency()`,
	},
	flatbuffers: {
		options: [],
		// mediasoup pins flatbuffers 24.3.25; Debian has 2.0.8. The worker's
		// schemas are compiled by Debian's flatc into headers that Debian's
		// flatbuffers headers read, so generator and runtime agree, and the
		// wire format (read by the npm flatbuffers package in Node) is the same.
		body: `flatbuffers_dep = dependency('flatbuffers')
flatbuffers_lib = static_library('mafalda_flatbuffers_stub', 'empty.c')`,
	},
	// mediasoup >= 3.20.1 asks for dependency('unordered_dense'), which Debian
	// does not package; the subproject named after it answers with a header
	// that maps it onto the standard containers (see the header).
	unordered_dense: {
		options: [],
		files: { 'include/ankerl/unordered_dense.h': 'ankerl/unordered_dense.h' },
		body: `ankerl_unordered_dense_dep = declare_dependency(include_directories: include_directories('include'))
meson.override_dependency('unordered_dense', ankerl_unordered_dense_dep)`,
	},
};

// Debian installs srtp.h under <includedir>/srtp2/; the force-included compat
// header bridges the libsrtp API the mediasoup version was written against.
function srtpSubproject(name, compatHeader) {
	return {
		options: [
			"option('crypto-library', type: 'string', value: 'openssl')",
			"option('crypto-library-kdf', type: 'string', value: 'disabled')",
			"option('tests', type: 'string', value: 'disabled')",
		],
		files: { [compatHeader]: compatHeader },
		body: `srtp_sys = dependency('libsrtp2')
${name}_dep = declare_dependency(
  dependencies: srtp_sys,
  include_directories: include_directories(srtp_sys.get_variable(pkgconfig: 'includedir') / 'srtp2'),
  compile_args: ['-include', meson.current_source_dir() / '${compatHeader}'],
)
${name} = static_library('mafalda_${name}_stub', 'empty.c')`,
	};
}

function run(cmd, args, cwd) {
	console.log(`[mafalda] $ ${cmd} ${args.join(' ')}`);
	execFileSync(cmd, args, { cwd, stdio: 'inherit' });
}

function prepareSources(mediasoupDir, srcDir) {
	fs.cpSync(path.join(mediasoupDir, 'worker'), srcDir, {
		recursive: true,
		filter: (src) => !src.includes(`${path.sep}out${path.sep}`) && !src.endsWith(`${path.sep}out`),
	});
	// Debian 12 ships meson 1.0.1, which builds this project fine.
	const mesonBuild = path.join(srcDir, 'meson.build');
	fs.writeFileSync(mesonBuild, fs.readFileSync(mesonBuild, 'utf8').replace(/meson_version:\s*'>=\s*1\.1\.0'/, "meson_version: '>= 1.0.0'"));

	// mediasoup's BIO callback (3.14 to 3.27) answers 1 to every BIO_CB_RETURN
	// except a bare one, so Debian's KTLS-enabled libssl reads BIO_get_ktls_send() as
	// true, allocates no write buffer and segfaults on the first DTLS record.
	const dtls = path.join(srcDir, 'src', 'RTC', 'DtlsTransport.cpp');
	const dtlsSrc = fs.readFileSync(dtls, 'utf8');
	const fixed = dtlsSrc.replace('(operationType == BIO_CB_RETURN)', '((operationType & BIO_CB_RETURN) != 0)');
	if (fixed === dtlsSrc) throw new Error('DtlsTransport.cpp: BIO callback patch did not apply');
	fs.writeFileSync(dtls, fixed);

	const subprojectsDir = path.join(srcDir, 'subprojects');
	for (const entry of fs.readdirSync(subprojectsDir)) {
		fs.rmSync(path.join(subprojectsDir, entry), { recursive: true, force: true });
	}
	for (const [name, spec] of Object.entries(SUBPROJECTS)) {
		const dir = path.join(subprojectsDir, name);
		fs.mkdirSync(dir, { recursive: true });
		fs.writeFileSync(path.join(dir, 'meson.build'), `project('${name}', 'c', 'cpp')\n${spec.body}\n`);
		fs.writeFileSync(path.join(dir, 'meson_options.txt'), spec.options.join('\n') + '\n');
		fs.writeFileSync(path.join(dir, 'empty.c'), EMPTY_C.replace('@NAME@', name.replace(/\W/g, '_')));
		for (const [dest, src] of Object.entries(spec.files || {})) {
			fs.mkdirSync(path.dirname(path.join(dir, dest)), { recursive: true });
			fs.copyFileSync(path.join(__dirname, 'worker-build', src), path.join(dir, dest));
		}
	}
}

// Builds the worker for the mediasoup package at mediasoupDir, unless the
// cache already has it. Returns the binary's path.
function buildWorker(mediasoupDir) {
	const version = JSON.parse(fs.readFileSync(path.join(mediasoupDir, 'package.json'), 'utf8')).version;
	const bin = cachedWorkerBin(version);
	if (fs.existsSync(bin)) return bin;

	const work = path.join(cacheRoot(), `build-${version}-${process.pid}`);
	fs.rmSync(work, { recursive: true, force: true });
	const srcDir = path.join(work, 'worker');
	const buildDir = path.join(work, 'build');
	const started = Date.now();
	console.log(`[mafalda] building mediasoup-worker ${version} (one time, a few minutes on 2 cores) in ${work}`);
	try {
		prepareSources(mediasoupDir, srcDir);
		// liburing (3.14 only) is an optional speed-up whose subproject would be
		// a download; later versions dropped it along with the option.
		const options = fs.readFileSync(path.join(srcDir, 'meson_options.txt'), 'utf8');
		const liburing = options.includes("'ms_disable_liburing'") ? ['-Dms_disable_liburing=true'] : [];
		run('meson', ['setup', buildDir, '--buildtype=release', '-Db_ndebug=true', ...liburing], srcDir);
		// 3.14 declares the generated flatbuffers headers as one directory
		// output, which ninja does not order before the sources including
		// them; later versions name each header, so ninja orders them itself.
		if (!fs.existsSync(path.join(srcDir, 'fbs', 'FBS', 'meson.build'))) run('ninja', ['-C', buildDir, 'fbs/FBS']);
		run('ninja', ['-C', buildDir, 'mediasoup-worker']);
		// Publish atomically so a concurrent run never sees a half-copied binary.
		const dir = cachedWorkerDir(version);
		fs.mkdirSync(dir, { recursive: true });
		const tmp = `${bin}.tmp-${process.pid}`;
		fs.copyFileSync(path.join(buildDir, 'mediasoup-worker'), tmp);
		fs.chmodSync(tmp, 0o755);
		fs.renameSync(tmp, bin);
	} finally {
		fs.rmSync(work, { recursive: true, force: true });
	}
	console.log(`[mafalda] mediasoup-worker built in ${Math.round((Date.now() - started) / 1000)} s: ${bin}`);
	return bin;
}

module.exports = { buildWorker, prepareSources };

if (require.main === module) {
	// Default: the package set-up builds for (mediasoup 3.27's `exports` hides
	// its package.json from require.resolve).
	const dir = process.argv[2] || require('./mediasoup-under-test').mediasoupPackageDir();
	console.log(buildWorker(dir));
}
