package orchestrate

import (
	"context"

	"github.com/imepipe/imepipe/decrypt"
	"github.com/imepipe/imepipe/fetch"
)

// downloadAndUnpack downloads req and, while it runs, verifies, decrypts
// and extracts the part of the file already complete (fetch.PrefixReader
// → decrypt.UnpackReader), so that when the last piece lands only its
// own share of the work is left: the IME downloads, then hashes, then
// decrypts, then unzips, one after the other.
//
// It returns the download's record and error, and whether dir now holds
// the verified content. When the overlapped unpack did not make it (the
// Downloader gave no Job, the inner ZIP needs random access, the download
// started again from zero, or the content does not verify) the caller
// unpacks the completed file the ordinary way, which decides.
func (a *Agent) downloadAndUnpack(ctx context.Context, t *tracer, req DownloadRequest, keys decrypt.Keys, dir string) (fetch.Status, bool, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan *fetch.Job, 1)
	req.Started = func(j *fetch.Job) {
		select {
		case jobs <- j:
		default: // one Job per download
		}
	}
	type outcome struct {
		st  fetch.Status
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		st, err := a.dl.Download(ctx, req)
		done <- outcome{st, err}
	}()
	var job *fetch.Job
	select {
	case job = <-jobs:
	case o := <-done:
		return o.st, false, o.err
	}
	if a.cfg.Progress != nil {
		finish := a.cfg.Progress(req.AppID+"_"+req.Version, job)
		defer finish() // after the unpack below and the download's end
	}
	t.info("[Win32App] Verifying, decrypting and unzipping while the download runs, into %s", dir)
	pr := job.NewPrefixReader(ctx)
	_, uerr := decrypt.UnpackReader(ctx, pr, keys, dir, decrypt.UnpackOptions{Replace: true})
	pr.Close()
	o := <-done
	switch {
	case o.err != nil:
		return o.st, false, o.err
	case uerr != nil:
		t.warn("[Win32App] Unzipping during the download did not complete (%v); unpacking the downloaded file", uerr)
		return o.st, false, nil
	}
	return o.st, true, nil
}
