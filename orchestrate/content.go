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
	"github.com/imepipe/imepipe/delivery"
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
	c, err := delivery.Resolve(ctx, a.client, a.priv, p.AppID, p.Version)
	if err != nil {
		var se *delivery.StepError
		if errors.As(err, &se) {
			return fail(se.Step, se.Err)
		}
		return fail("content info", err)
	}
	info := c.Info
	t.info("[Win32App] ContentInfo: UploadLocation=%s, DoFileId=%s, Size=%d", fetch.RedactURL(info.UploadLocation), info.DoFileID, info.Size)
	keys := c.Keys
	bin, err := under(a.layout.Incoming, key+".bin")
	if err != nil {
		return fail("content info", err)
	}
	dir, err := under(a.layout.IMECache, key)
	if err != nil {
		return fail("content info", err)
	}
	// The HMAC, checked on every path below, covers every byte of the .bin.
	target := delivery.Target{Bin: bin, Dir: dir, Foreground: p.DeliveryOptimizationPriority == "foreground"}

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
			st, unpacked, err = a.deliver(ctx, t, c, target)
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

// deliver downloads c into target with the agent's Downloader while the
// part already complete is verified, decrypted and extracted
// (delivery.Start). It returns the download's record and error, and
// whether target.Dir now holds the verified content; when not (no Job to
// follow, the inner ZIP needs random access, the download started again
// from zero, or the content does not verify) the caller unpacks the
// completed file the ordinary way, which decides.
func (a *Agent) deliver(ctx context.Context, t *tracer, c *delivery.Content, target delivery.Target) (fetch.Status, bool, error) {
	d, err := delivery.Start(ctx, c, a.dl, target)
	if err != nil {
		return fetch.Status{}, false, err
	}
	if d.Job != nil {
		if a.cfg.Progress != nil {
			finish := a.cfg.Progress(c.AppID+"_"+c.Version, d.Job)
			defer finish() // after the download's end and the unpack that overlaps it
		}
		t.info("[Win32App] Verifying, decrypting and unzipping while the download runs, into %s", target.Dir)
	}
	res, err := d.Wait()
	a.metrics.download(res.Status, err)
	if err != nil {
		return res.Status, false, err
	}
	if res.UnpackErr != nil {
		t.warn("[Win32App] Unzipping during the download did not complete (%v); unpacking the downloaded file", res.UnpackErr)
	}
	return res.Status, res.Unpacked, nil
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
