package orchestrate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"

	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/imeapi"
)

// DownloadRequest is one content download.
type DownloadRequest struct {
	AppID, Version string
	// Info is the service's ContentInfo: UploadLocation, DoFileId, Size,
	// SHA256, PieceSize and PieceHashesUrl.
	Info imeapi.ContentInfo
	// Path is the target, Content/Incoming/<appId>_<rev>.bin.
	Path string
	// Foreground is the assignment's DO priority.
	Foreground bool
	// Started, when set, is called with the download's Job before it
	// runs, so that the caller can read the file as it grows.
	Started func(*fetch.Job)
	// CallerVerifies says the caller checks every byte of the file itself
	// (the agent does: the HMAC covers the whole .bin), so the download
	// does not hash it once more against ContentInfo's SHA256.
	CallerVerifies bool
}

// wholeFileHash is the SHA-256 the download checks the file against, or
// nil when there is none to check or the caller verifies.
func (req DownloadRequest) wholeFileHash() ([]byte, error) {
	if req.CallerVerifies || req.Info.SHA256 == "" {
		return nil, nil
	}
	sum, err := hex.DecodeString(req.Info.SHA256)
	if err != nil || len(sum) != sha256.Size {
		return nil, fmt.Errorf("ContentInfo SHA256 %q: %w", req.Info.SHA256, ErrContent)
	}
	return sum, nil
}

// Downloader puts an app's encrypted content at DownloadRequest.Path and
// returns its DO record. A peer-backed implementation plugs in here. Its
// errors name only what the caller does not know: the agent wraps them
// once in a StepError naming the package, the step and the DoFileId.
type Downloader interface {
	Download(ctx context.Context, req DownloadRequest) (fetch.Status, error)
}

// FetchDownloader downloads from the origin (UploadLocation), with a
// Connected Cache host first when CacheHost is set. The whole-file
// SHA-256 from ContentInfo is checked while the file grows.
type FetchDownloader struct {
	HTTP         *http.Client
	CacheHost    string
	DownloadMode imeapi.DownloadMode
	Options      fetch.Options // base options (Connections, Retry, Now, Logf, …)
}

// Download implements Downloader.
func (d *FetchDownloader) Download(ctx context.Context, req DownloadRequest) (fetch.Status, error) {
	var sources []fetch.Source
	if d.CacheHost != "" && d.DownloadMode != imeapi.ModeBypass {
		c, err := fetch.NewCache(req.Info.UploadLocation, d.CacheHost, d.HTTP)
		if err != nil {
			return fetch.Status{}, err
		}
		sources = append(sources, c)
	}
	origin, err := fetch.NewHTTP(req.Info.UploadLocation, d.HTTP)
	if err != nil {
		return fetch.Status{}, err
	}
	sources = append(sources, origin)
	opt := d.Options
	opt.FileID = req.Info.DoFileID
	opt.DownloadMode = d.DownloadMode
	if !req.Foreground {
		opt.Priority = fetch.Background
	}
	sum, err := req.wholeFileHash()
	if err != nil {
		return fetch.Status{}, err
	}
	opt.SHA256 = sum
	job, err := fetch.New(req.Path, sources, opt)
	if err != nil {
		return fetch.Status{}, err
	}
	if req.Started != nil {
		req.Started(job)
	}
	return job.Run(ctx)
}
