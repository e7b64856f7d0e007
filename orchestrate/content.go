package orchestrate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/imepipe/imepipe/decrypt"
	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/imeapi"
)

// content gets an app's content into IMECache/<key>: content info, a
// verified cached .bin or a download, then verify-decrypt-extract. It
// returns the folder and the DO record.
func (a *Agent) content(ctx context.Context, t *tracer, p imeapi.Policy, key string) (string, fetch.Status, error) {
	var st fetch.Status
	fail := func(step string, err error) (string, fetch.Status, error) {
		return "", st, &StepError{Step: step, Code: CodeFailure, Err: err}
	}
	t.info("[Win32App] ===Step=== Get content info")
	ci, err := a.client.ContentInfo(ctx, p.AppID, p.Version)
	if err != nil {
		return fail("content info", err)
	}
	info := ci.ContentInfo
	if err := checkContentInfo(info); err != nil {
		return fail("content info", err)
	}
	t.info("[Win32App] ContentInfo: UploadLocation=%s, DoFileId=%s, Size=%d", fetch.RedactURL(info.UploadLocation), info.DoFileID, info.Size)
	di, err := a.client.OpenDecryptInfo(a.priv, ci.DecryptInfo)
	if err != nil {
		return fail("decrypt info", err)
	}
	keys, err := decrypt.KeysFromDecryptInfo(di, info.UnencryptedContentSize)
	if err != nil {
		return fail("decrypt info", err)
	}
	bin, err := under(a.layout.Incoming, key+".bin")
	if err != nil {
		return fail("content info", err)
	}
	dir, err := under(a.layout.IMECache, key)
	if err != nil {
		return fail("content info", err)
	}
	// The HMAC, checked on every path below, covers every byte of the .bin.
	req := DownloadRequest{AppID: p.AppID, Version: p.Version, Info: info, Path: bin,
		Foreground: p.DeliveryOptimizationPriority == "foreground", CallerVerifies: true}

	cached := false
	if _, err := os.Stat(bin); err == nil && !exists(bin+".journal") {
		t.info("[Win32App] Content cache found for app id %s, verifying it before use", p.AppID)
		if err := verifyFile(bin, info); err != nil {
			t.warn("[Win32App] Cached content for app id %s does not verify (%v); discarding it and downloading again", p.AppID, err)
			removeBin(bin)
		} else {
			t.info("[Win32App] Cached content verified (size and SHA-256), skip downloading")
			cached = true
			st = fetch.Status{FileId: info.DoFileID, FileSize: info.Size, FileSizeInCache: info.Size, Status: imeapi.DOComplete, DownloadMode: *a.cfg.DownloadMode}
		}
	}
	for try := 0; ; try++ {
		if !cached {
			t.info("[Win32App] ===Step=== Download")
			t.info("[Win32App] Downloading app on session 0. App: %s, DoFileId: %s", p.AppID, info.DoFileID)
			var unpacked bool
			st, unpacked, err = a.downloadAndUnpack(ctx, t, req, keys, dir)
			if err != nil {
				return "", st, &StepError{Step: "download", Object: info.DoFileID, Code: CodeFailure, Err: err}
			}
			logDownload(t, st)
			if unpacked {
				t.info("[Win32App] ===Step=== Decrypt and unzip")
				t.info("[Win32App] Decryption is done successfully; unzipping is done (HMAC and FileDigest verified during the download)")
				return dir, st, nil
			}
		}
		t.info("[Win32App] ===Step=== Decrypt and unzip")
		t.info("[Win32App] Starts verifying encrypted hash; decrypting and unzipping into %s", dir)
		_, err = decrypt.UnpackRaw(ctx, bin, keys, dir, decrypt.UnpackOptions{Replace: true})
		if err == nil {
			t.info("[Win32App] Decryption is done successfully; unzipping is done")
			return dir, st, nil
		}
		if !isVerifyError(err) {
			return fail("unpack", err)
		}
		removeBin(bin)
		if !cached || try > 0 {
			t.error("[Win32App] Downloaded content does not verify: %v", err)
			return fail("verify", fmt.Errorf("%w: %w", ErrContent, err))
		}
		t.warn("[Win32App] Cached content failed HMAC/FileDigest verification (%v); downloading again", err)
		cached = false
	}
}

// verifyFile checks a cached .bin against ContentInfo's size and SHA-256.
func verifyFile(path string, info imeapi.ContentInfo) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() != info.Size {
		return fmt.Errorf("size %d, want %d: %w", fi.Size(), info.Size, ErrContent)
	}
	if info.SHA256 == "" {
		return nil // UnpackRaw's HMAC and FileDigest still decide
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != info.SHA256 {
		return fmt.Errorf("SHA-256 %s, want %s: %w", got, info.SHA256, ErrContent)
	}
	return nil
}

func isVerifyError(err error) bool {
	for _, e := range []error{decrypt.ErrMAC, decrypt.ErrDigest, decrypt.ErrIV, decrypt.ErrPadding, decrypt.ErrTruncated, decrypt.ErrSize} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func removeBin(bin string) {
	_ = os.Remove(bin)
	_ = os.Remove(bin + ".journal")
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// logDownload writes the IME's line after a download: DO's priority and
// bytes by source, or, when the DO cache already held the whole content
// (no job ran, no priority), that nothing was downloaded.
func logDownload(t *tracer, st fetch.Status) {
	if st.TotalBytesDownloaded == 0 && st.Priority == "" {
		t.info("[Win32App] DO found the content complete in its cache (%d bytes); nothing downloaded", st.FileSizeInCache)
		return
	}
	t.info("[Win32App] DO Job set priority is %s, Downloaded %d bytes (HTTP %d, cache server %d, peers %d) in %s", st.Priority, st.TotalBytesDownloaded, st.BytesFromHttp, st.BytesFromCacheServer, st.BytesFromPeers, st.DownloadDuration)
}
