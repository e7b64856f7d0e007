package orchestrate

import (
	"context"
	"net/http"

	"github.com/imepipe/imepipe/delivery"
	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/peer"
)

// Downloader starts an app's content download (delivery.Downloader): a
// peer-backed implementation plugs in here. Its errors name only what
// the caller does not know: the agent wraps them once in a StepError
// naming the step and the DoFileId.
type Downloader = delivery.Downloader

// FetchDownloader downloads from the origin (UploadLocation), with a
// Connected Cache host first when CacheHost is set. It does not hash the
// whole file: the delivery's HMAC covers every byte of it.
type FetchDownloader struct {
	HTTP         *http.Client
	CacheHost    string
	DownloadMode imeapi.DownloadMode
	Options      fetch.Options // base options (Connections, Retry, Clock, Logf, …)
	// Records, when set, keeps the DO record of every download (the DO
	// cache keeps no content of them: nothing is served to peers in the
	// modes that come here); nil keeps none.
	Records *peer.Cache
	Logf    func(format string, args ...any)
}

// fetchDownloader is the agent's FetchDownloader (Config's HTTP client,
// CacheHost, DownloadMode and Clock); records keeps each download's DO
// record, nil none.
func (a *Agent) fetchDownloader(records *peer.Cache) *FetchDownloader {
	return &FetchDownloader{HTTP: a.cfg.HTTP, CacheHost: a.cfg.CacheHost, DownloadMode: *a.cfg.DownloadMode,
		Options: fetch.Options{Clock: a.cfg.Clock, Caller: DefaultCaller}, Records: records, Logf: a.doLogf}
}

// DefaultCaller is the PredefinedCallerApplication of the agent's
// downloads. Which name Windows shows for the IME's downloads is not
// documented; this one is ours.
const DefaultCaller = "Intune Management Extension"

// Start implements Downloader.
func (d *FetchDownloader) Start(ctx context.Context, req delivery.Request) (*delivery.Transfer, error) {
	var sources []fetch.Source
	if d.CacheHost != "" && d.DownloadMode != imeapi.ModeBypass {
		c, err := fetch.NewCache(req.Info.UploadLocation, d.CacheHost, d.HTTP)
		if err != nil {
			return nil, err
		}
		sources = append(sources, c)
	}
	origin, err := fetch.NewHTTP(req.Info.UploadLocation, d.HTTP)
	if err != nil {
		return nil, err
	}
	sources = append(sources, origin)
	opt := d.Options
	opt.FileID = req.Info.DoFileID
	opt.DownloadMode = d.DownloadMode
	if !req.Foreground {
		opt.Priority = fetch.Background
	}
	job, err := fetch.New(req.Path, sources, opt)
	if err != nil {
		return nil, err
	}
	if d.Records == nil {
		return delivery.JobTransfer(ctx, job), nil
	}
	type end struct {
		st  fetch.Status
		err error
	}
	done := make(chan end, 1)
	go func() {
		st, err := job.Run(ctx)
		if rerr := d.Records.Record(st); rerr != nil && d.Logf != nil {
			d.Logf("DO record of %s: %v", st.FileId, rerr)
		}
		done <- end{st, err}
	}()
	return delivery.NewTransfer(job, func() (peer.Result, error) {
		e := <-done
		return peer.Result{Status: e.st}, e.err
	}), nil
}
