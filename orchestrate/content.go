package orchestrate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/imepipe/imepipe/decrypt"
	"github.com/imepipe/imepipe/delivery"
	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate/imelog"
	"github.com/imepipe/imepipe/orchestrate/state"
)

// content gets an app's content into IMECache/<key>: content info, a
// verified cached .bin or a download, then verify-decrypt-extract. It
// returns the folder and the DO record.
func (a *Agent) content(ctx context.Context, t *tracer, p imeapi.Policy, key string) (string, fetch.Status, error) {
	var st fetch.Status
	fail := func(step string, err error) (string, fetch.Status, error) {
		return "", st, &StepError{Step: step, Code: CodeFailure, Err: err}
	}
	t.log(imelog.ContentInfoStep)
	c, err := delivery.Resolve(ctx, a.client, a.priv, p.AppID, p.Version)
	if err != nil {
		var se *delivery.StepError
		if errors.As(err, &se) {
			return fail(se.Step, se.Err)
		}
		return fail("content info", err)
	}
	info := c.Info
	t.log(imelog.ResponseFromIntune, contentInfoResponse(c))
	name := p.AppID
	if app, err := p.Win32LobApp(); err == nil && app.DisplayName != "" {
		name = app.DisplayName
	}
	keys := c.Keys
	bin, err := under(a.layout.Incoming, key+".bin")
	if err != nil {
		return fail("content info", err)
	}
	dir, err := under(a.layout.IMECache, key)
	if err != nil {
		return fail("content info", err)
	}
	// Every path below checks every byte of the .bin: the HMAC, or, for the
	// unpack that follows a peer-mode download, each piece against its
	// piece hash as it came (delivery.PeerTransfer).
	target := delivery.Target{Bin: bin, Dir: dir, Foreground: p.DeliveryOptimizationPriority == "foreground"}

	cached := false
	if _, err := os.Stat(bin); err == nil && !exists(bin+".journal") {
		t.log(imelog.ContentCacheFound, p.AppID)
		if err := verifyFile(bin, info); err != nil {
			t.log(imelog.ContentCacheBad, p.AppID, err)
			removeBin(bin)
		} else {
			t.log(imelog.ContentCacheOK)
			cached = true
			st = fetch.Status{FileId: info.DoFileID, FileSize: info.Size, FileSizeInCache: info.Size, Status: imeapi.DOComplete, DownloadMode: *a.cfg.DownloadMode,
				PredefinedCallerApplication: DefaultCaller}
		}
	}
	for try := 0; ; try++ {
		if !cached {
			t.log(imelog.DownloadStep)
			t.log(imelog.DownloadingApp, 0, p.AppID)
			t.log(imelog.DownloadTypeURL, downloadTypeDO, fetch.RedactURL(info.UploadLocation))
			wait := doWaitBackground
			if target.Foreground {
				wait = doWaitForeground
			}
			t.log(imelog.DOWaiting, wait.Milliseconds())
			var unpacked bool
			st, unpacked, err = a.deliver(ctx, t, c, name, target)
			if err != nil {
				return "", st, &StepError{Step: "download", Object: info.DoFileID, Code: CodeFailure, Err: err}
			}
			logDownload(t, st)
			t.log(imelog.DownloadReport, p.AppID, delta("DownloadState", "InProgress", "Success"))
			if unpacked {
				logUnpacked(t, dir)
				return dir, st, nil
			}
		}
		t.log(imelog.StartsVerifyingHash)
		_, err = decrypt.UnpackRaw(ctx, bin, keys, dir, decrypt.UnpackOptions{Replace: true})
		if err == nil {
			logUnpacked(t, dir)
			return dir, st, nil
		}
		if !isVerifyError(err) {
			return fail("unpack", err)
		}
		removeBin(bin)
		if !cached || try > 0 {
			t.log(imelog.ContentBad, err)
			return fail("verify", fmt.Errorf("%w: %w", ErrContent, err))
		}
		t.log(imelog.CachedContentBadMAC, err)
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
func (a *Agent) deliver(ctx context.Context, t *tracer, c *delivery.Content, name string, target delivery.Target) (fetch.Status, bool, error) {
	d, err := delivery.Start(ctx, c, a.dl, target)
	if err != nil {
		return fetch.Status{}, false, err
	}
	if d.Job != nil {
		if a.cfg.Progress != nil {
			finish := a.cfg.Progress(c.AppID+"_"+c.Version, d.Job)
			defer finish() // after the download's end and the unpack that overlaps it
		}
		t.log(imelog.UnpackWhileDownload, target.Dir)
	}
	// DO reports progress on a thread of its own, as the IME's DO
	// callbacks do: here when the job starts and when it ends.
	pt := a.tracer()
	via := "DO"
	if m := *a.cfg.DownloadMode; m == imeapi.ModeSimple || m == imeapi.ModeBypass {
		via = "CDN"
	}
	pt.log(imelog.DOProgress, c.AppID, name, via, 0, c.Info.Size, state.DeviceUser)
	res, err := d.Wait()
	pt.log(imelog.DOProgress, c.AppID, name, via, res.Status.TotalBytesDownloaded, c.Info.Size, state.DeviceUser)
	a.metrics.download(res.Status, err)
	if err != nil {
		return res.Status, false, err
	}
	if res.UnpackErr != nil {
		t.log(imelog.UnpackDuringFailed, res.UnpackErr)
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
		t.log(imelog.DOFromCache, st.FileSizeInCache)
		return
	}
	t.log(imelog.DONotified)
	t.log(imelog.DownloadedSize, st.FileSize)
	t.log(imelog.DOJobStats, st.Priority, st.TotalBytesDownloaded, st.BytesFromHttp, st.BytesFromCacheServer, st.BytesFromPeers, st.DownloadDuration)
}

// downloadTypeDO is the IME's DownloadType of a Delivery Optimization job.
const downloadTypeDO = 2

// How long the IME waits for a DO job: foreground and background
// priority (its "Waiting N ms for 1 jobs to complete").
const (
	doWaitForeground = 12 * time.Hour
	doWaitBackground = 30 * time.Minute
)

// logUnpacked writes the IME's lines of a verified, decrypted and
// unzipped package (HMAC and FileDigest checked as it was read).
func logUnpacked(t *tracer, dir string) {
	t.log(imelog.HashValidationPass)
	t.log(imelog.DecryptionDone)
	t.log(imelog.StartingUnzip, dir)
	t.log(imelog.UnzipDone)
}

// contentInfoResponse is the GetContentInfo reply as the IME logs it
// after "Response from Intune = {": the members of the reply on one line,
// ResponsePayload a JSON string holding ApplicationId, ContentInfo (a
// JSON string) and DecryptInfo (the sealed envelope, a JSON string: no
// key is ever logged). The blob signature is redacted from every URL.
func contentInfoResponse(c *delivery.Content) string {
	ci := c.Info
	ci.UploadLocation = fetch.RedactURL(ci.UploadLocation)
	ci.PieceHashesURL = fetch.RedactURL(ci.PieceHashesURL)
	info, _ := json.Marshal(ci)
	env, _ := json.Marshal(c.Envelope)
	payload, _ := json.Marshal(struct {
		ApplicationId string
		ContentInfo   string
		DecryptInfo   string
	}{c.AppID, string(info), string(env)})
	reply, _ := json.Marshal(struct {
		ResponseContentType string
		ClientIp            *string
		ResponsePayload     string
		ErrorMessageTitle   *string
		ErrorMessage        *string
	}{ResponseContentType: "GetContentInfo", ResponsePayload: string(payload)})
	return strings.TrimSuffix(strings.TrimPrefix(string(reply), "{"), "}")
}
