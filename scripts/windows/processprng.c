/*
 * bcryptprimitives.dll for Wine 8: Go >= 1.22's runtime on Windows gets its
 * random bytes from ProcessPrng in bcryptprimitives.dll, which Wine 8 does not
 * ship. This stand-in exports ProcessPrng and fills the buffer with
 * SystemFunction036 (RtlGenRandom, advapi32). It is built and copied into the
 * test Wine prefix by scripts/windows/prefix.sh; real Windows 10/11 has the
 * real DLL and never sees this one. It is not part of the product.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
	while (len > 0) {
		ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
		if (!SystemFunction036(data, n))
			return FALSE;
		data += n;
		len -= n;
	}
	return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
	(void)inst; (void)reason; (void)reserved;
	return TRUE;
}
