// Force-included into the mediasoup worker's C++ sources when a mediasoup that
// asks for libsrtp 3 (its `libsrtp3` subproject, 3.0.0-beta since 3.23) is built
// against Debian's libsrtp 2.5.
//
// libsrtp 3 made the stream policy an opaque object filled through setters
// (srtp_policy_create/_set_ssrc/_set_profile/_add_key/...), and made
// protect/unprotect copy from an input buffer into an output buffer with
// size_t lengths. libsrtp 2.5 has the same engine behind a public struct
// (`srtp_policy_t`) and in-place calls with int lengths. This header gives
// mediasoup the libsrtp 3 names on top of the 2.5 library:
//
// - The 2.5 struct is renamed while <srtp.h> is read, so that the name
//   `srtp_policy_t` is free for libsrtp 3's opaque handle. Renaming a C struct
//   changes nothing in the ABI: the library only sees its layout.
// - The handle points to a 2.5 policy plus a buffer holding key || salt,
//   which is what 2.5's `policy.key` expects for every profile mediasoup
//   uses (its key length already includes the salt).
// - protect/unprotect copy the input into the output buffer (a no-op when
//   mediasoup works in place) and run 2.5's in-place call on it, after checking
//   that the output buffer has the room 2.5 documents it may write after the
//   packet (SRTP_MAX_TRAILER_LEN, plus 4 for the SRTCP index); mediasoup's
//   65536-byte encrypt buffer always has it for a packet it accepted.
//
// MKI is not bridged: mediasoup never passes one (mki = nullptr, index 0), and
// srtp_policy_add_key() refuses one with srtp_err_status_bad_param.
#pragma once
#ifdef __cplusplus

#define srtp_policy_t mafalda_srtp2_policy_t
#include <srtp.h>
#undef srtp_policy_t

#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>

// Error codes libsrtp 3 added after srtp_err_status_pkt_idx_adv (27). libsrtp
// 2.5 never returns them; mediasoup names them in its error message table and
// the bridge below returns buffer_small exactly where libsrtp 3 would.
inline constexpr srtp_err_status_t srtp_err_status_buffer_small = static_cast<srtp_err_status_t>(28);
inline constexpr srtp_err_status_t srtp_err_status_cryptex_err  = static_cast<srtp_err_status_t>(29);

struct mafalda_srtp3_policy
{
	mafalda_srtp2_policy_t policy;
	srtp_profile_t profile;
	bool hasProfile;
	bool hasKey;
	uint8_t keyAndSalt[SRTP_MAX_KEY_LEN];
};

using srtp_policy_t = mafalda_srtp3_policy*;

inline srtp_err_status_t srtp_policy_create(srtp_policy_t* policy)
{
	if (policy == nullptr)
		return srtp_err_status_bad_param;

	// Value-initialised: every pointer null, counts 0, window_size 0 (libsrtp's
	// default of 128 until set).
	*policy = new (std::nothrow) mafalda_srtp3_policy{};

	return *policy != nullptr ? srtp_err_status_ok : srtp_err_status_alloc_fail;
}

inline void srtp_policy_destroy(srtp_policy_t policy)
{
	delete policy;
}

inline srtp_err_status_t srtp_policy_set_ssrc(srtp_policy_t policy, srtp_ssrc_t ssrc)
{
	if (policy == nullptr)
		return srtp_err_status_bad_param;

	policy->policy.ssrc = ssrc;

	return srtp_err_status_ok;
}

inline srtp_err_status_t srtp_policy_set_profile(srtp_policy_t policy, srtp_profile_t profile)
{
	if (policy == nullptr)
		return srtp_err_status_bad_param;

	srtp_err_status_t err = srtp_crypto_policy_set_from_profile_for_rtp(&policy->policy.rtp, profile);

	if (err == srtp_err_status_ok)
		err = srtp_crypto_policy_set_from_profile_for_rtcp(&policy->policy.rtcp, profile);

	if (err != srtp_err_status_ok)
		return err;

	policy->profile    = profile;
	policy->hasProfile = true;

	return srtp_err_status_ok;
}

inline srtp_err_status_t srtp_policy_add_key(
  srtp_policy_t policy,
  const uint8_t* key,
  size_t keyLen,
  const uint8_t* salt,
  size_t saltLen,
  const uint8_t* mki,
  size_t mkiLen)
{
	if (policy == nullptr || key == nullptr || salt == nullptr || !policy->hasProfile || policy->hasKey)
		return srtp_err_status_bad_param;

	if (mki != nullptr || mkiLen != 0)
		return srtp_err_status_bad_param;

	// libsrtp 3 checks the lengths against the profile; 2.5 would silently read
	// past a short key, so the check matters here.
	if (
	  keyLen != srtp_profile_get_master_key_length(policy->profile) ||
	  saltLen != srtp_profile_get_master_salt_length(policy->profile) ||
	  keyLen + saltLen > sizeof(policy->keyAndSalt))
	{
		return srtp_err_status_bad_param;
	}

	std::memcpy(policy->keyAndSalt, key, keyLen);
	std::memcpy(policy->keyAndSalt + keyLen, salt, saltLen);
	policy->policy.key = policy->keyAndSalt;
	policy->hasKey     = true;

	return srtp_err_status_ok;
}

inline srtp_err_status_t srtp_policy_set_allow_repeat_tx(srtp_policy_t policy, bool allow)
{
	if (policy == nullptr)
		return srtp_err_status_bad_param;

	policy->policy.allow_repeat_tx = allow ? 1 : 0;

	return srtp_err_status_ok;
}

inline srtp_err_status_t srtp_policy_set_window_size(srtp_policy_t policy, size_t windowSize)
{
	// Same bounds libsrtp enforces when the stream is created.
	if (policy == nullptr || windowSize < 64 || windowSize >= 0x8000)
		return srtp_err_status_bad_param;

	policy->policy.window_size = static_cast<unsigned long>(windowSize);

	return srtp_err_status_ok;
}

inline srtp_err_status_t srtp_create(srtp_t* session, srtp_policy_t policy)
{
	// Without a key 2.5 would dereference a null key pointer.
	if (policy == nullptr || !policy->hasKey)
		return srtp_err_status_bad_param;

	// 2.5 copies everything it needs out of the policy, so the caller may
	// destroy it right after, as libsrtp 3 allows.
	return srtp_create(session, &policy->policy);
}

namespace mafalda_srtp3_compat
{
	// Copies `in` into `out` (libsrtp 3's out-of-place call) and runs the 2.5
	// in-place function `fn` on it. `room` is what 2.5 may append.
	template<typename F>
	inline srtp_err_status_t InPlace(
	  const uint8_t* in, size_t inLen, uint8_t* out, size_t* outLen, size_t room, F fn)
	{
		if (in == nullptr || out == nullptr || outLen == nullptr || inLen > INT_MAX - room)
			return srtp_err_status_bad_param;

		if (*outLen < inLen + room)
			return srtp_err_status_buffer_small;

		if (out != in)
			std::memmove(out, in, inLen);

		int len                     = static_cast<int>(inLen);
		const srtp_err_status_t err = fn(out, &len);

		if (err == srtp_err_status_ok)
			*outLen = static_cast<size_t>(len);

		return err;
	}
} // namespace mafalda_srtp3_compat

inline srtp_err_status_t srtp_protect(
  srtp_t ctx, const uint8_t* rtp, size_t rtpLen, uint8_t* srtp, size_t* srtpLen, size_t mkiIndex)
{
	if (mkiIndex != 0)
		return srtp_err_status_bad_param;

	return mafalda_srtp3_compat::InPlace(
	  rtp,
	  rtpLen,
	  srtp,
	  srtpLen,
	  SRTP_MAX_TRAILER_LEN,
	  [ctx](uint8_t* buf, int* len) { return srtp_protect(ctx, buf, len); });
}

inline srtp_err_status_t srtp_unprotect(
  srtp_t ctx, const uint8_t* srtp, size_t srtpLen, uint8_t* rtp, size_t* rtpLen)
{
	return mafalda_srtp3_compat::InPlace(
	  srtp, srtpLen, rtp, rtpLen, 0, [ctx](uint8_t* buf, int* len) { return srtp_unprotect(ctx, buf, len); });
}

inline srtp_err_status_t srtp_protect_rtcp(
  srtp_t ctx, const uint8_t* rtcp, size_t rtcpLen, uint8_t* srtcp, size_t* srtcpLen, size_t mkiIndex)
{
	if (mkiIndex != 0)
		return srtp_err_status_bad_param;

	return mafalda_srtp3_compat::InPlace(
	  rtcp,
	  rtcpLen,
	  srtcp,
	  srtcpLen,
	  SRTP_MAX_TRAILER_LEN + 4,
	  [ctx](uint8_t* buf, int* len) { return srtp_protect_rtcp(ctx, buf, len); });
}

inline srtp_err_status_t srtp_unprotect_rtcp(
  srtp_t ctx, const uint8_t* srtcp, size_t srtcpLen, uint8_t* rtcp, size_t* rtcpLen)
{
	return mafalda_srtp3_compat::InPlace(
	  srtcp, srtcpLen, rtcp, rtcpLen, 0, [ctx](uint8_t* buf, int* len) {
		  return srtp_unprotect_rtcp(ctx, buf, len);
	  });
}

inline srtp_err_status_t srtp_stream_remove(srtp_t session, uint32_t ssrc)
{
	return srtp_remove_stream(session, ssrc);
}

#endif
