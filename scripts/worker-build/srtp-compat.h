// Force-included into the mediasoup worker's C++ sources when it is built
// against Debian's libsrtp 2.5. mediasoup 3.14.x was written against a libsrtp
// "3.0-alpha" fork that takes size_t* lengths and renamed srtp_remove_stream;
// these five calls are the only API differences, so they are bridged here
// instead of patching mediasoup's sources.
#pragma once
#ifdef __cplusplus
#include <srtp.h>
#include <cstddef>

namespace mafalda_srtp_compat
{
	template<typename F>
	inline srtp_err_status_t WithIntLen(F fn, size_t* len)
	{
		int intLen = static_cast<int>(*len);
		const srtp_err_status_t err = fn(&intLen);
		*len = static_cast<size_t>(intLen);
		return err;
	}
} // namespace mafalda_srtp_compat

inline srtp_err_status_t srtp_protect(srtp_t ctx, void* hdr, size_t* len)
{
	return mafalda_srtp_compat::WithIntLen([&](int* l) { return srtp_protect(ctx, hdr, l); }, len);
}

inline srtp_err_status_t srtp_unprotect(srtp_t ctx, void* hdr, size_t* len)
{
	return mafalda_srtp_compat::WithIntLen([&](int* l) { return srtp_unprotect(ctx, hdr, l); }, len);
}

inline srtp_err_status_t srtp_protect_rtcp(srtp_t ctx, void* hdr, size_t* len)
{
	return mafalda_srtp_compat::WithIntLen(
	  [&](int* l) { return srtp_protect_rtcp(ctx, hdr, l); }, len);
}

inline srtp_err_status_t srtp_unprotect_rtcp(srtp_t ctx, void* hdr, size_t* len)
{
	return mafalda_srtp_compat::WithIntLen(
	  [&](int* l) { return srtp_unprotect_rtcp(ctx, hdr, l); }, len);
}

inline srtp_err_status_t srtp_stream_remove(srtp_t session, unsigned int ssrc)
{
	return srtp_remove_stream(session, ssrc);
}
#endif
