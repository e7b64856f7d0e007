package delivery

import (
	"context"
	"crypto/ecdh"
	"errors"
	"fmt"
	"io"

	"github.com/imepipe/imepipe/decrypt"
	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/peer"
)

// ErrPieces: the piece hash file does not describe the content info's
// content (another DoFileId, size or piece size), or there is none.
var ErrPieces = errors.New("delivery: piece hashes do not match the content info")

// Service is what a delivery needs of the service (*imeapi.Client has it).
type Service interface {
	ContentInfo(ctx context.Context, appID, version string) (imeapi.ContentInfoResponse, error)
	OpenDecryptInfo(priv *ecdh.PrivateKey, env imeapi.Envelope) (imeapi.DecryptInfo, error)
	PieceHashes(ctx context.Context, url string) (imeapi.PieceHashes, error)
}

// StepError is a failed step of Resolve: "content info" or "decrypt
// info". Its text is the cause alone, so a caller that names the step
// itself (orchestrate's StepError) does not say it twice.
type StepError struct {
	Step string
	Err  error
}

func (e *StepError) Error() string { return e.Err.Error() }
func (e *StepError) Unwrap() error { return e.Err }

// Content is one app version's content as the service describes it,
// checked, with its keys.
type Content struct {
	AppID, Version string
	Info           imeapi.ContentInfo
	Keys           decrypt.Keys
	// Envelope is the DecryptInfo as served, still sealed (safe to log).
	Envelope imeapi.Envelope
	svc      Service
}

// Resolve asks svc for the content info of appID at version, refuses a
// DoFileId that could not name a file (peer.CheckID), and opens the
// DecryptInfo with priv. Its errors are *StepError.
func Resolve(ctx context.Context, svc Service, priv *ecdh.PrivateKey, appID, version string) (*Content, error) {
	ci, err := svc.ContentInfo(ctx, appID, version)
	if err != nil {
		return nil, &StepError{Step: "content info", Err: err}
	}
	if err := peer.CheckID(ci.ContentInfo.DoFileID); err != nil {
		return nil, &StepError{Step: "content info", Err: err}
	}
	di, err := svc.OpenDecryptInfo(priv, ci.DecryptInfo)
	if err != nil {
		return nil, &StepError{Step: "decrypt info", Err: err}
	}
	keys, err := decrypt.KeysFromDecryptInfo(di, ci.ContentInfo.UnencryptedContentSize)
	if err != nil {
		return nil, &StepError{Step: "decrypt info", Err: err}
	}
	return &Content{AppID: appID, Version: version, Info: ci.ContentInfo, Keys: keys, Envelope: ci.DecryptInfo, svc: svc}, nil
}

// PieceHashes fetches the content's piece hash file and checks that it
// describes this content: its DoFileId, size and piece size are the
// content info's, and it has one hash per piece.
func (c *Content) PieceHashes(ctx context.Context) ([][32]byte, error) {
	info := c.Info
	if info.PieceHashesURL == "" {
		return nil, fmt.Errorf("%w: no piece hash file", ErrPieces)
	}
	ph, err := c.svc.PieceHashes(ctx, info.PieceHashesURL)
	if err != nil {
		return nil, fmt.Errorf("piece hashes: %w", err)
	}
	hashes, err := peer.ParseHashes(ph)
	if err != nil {
		return nil, fmt.Errorf("piece hashes: %w", err)
	}
	if ph.DoFileID != info.DoFileID || ph.Size != info.Size || ph.PieceSize != info.PieceSize {
		return nil, fmt.Errorf("%w: %s (%d bytes, pieces of %d), not %s (%d, %d)",
			ErrPieces, ph.DoFileID, ph.Size, ph.PieceSize, info.DoFileID, info.Size, info.PieceSize)
	}
	return hashes, nil
}

// Target is where a delivery puts the content.
type Target struct {
	// Bin is the encrypted file, Content/Incoming/<appId>_<rev>.bin.
	Bin string
	// Dir is the folder the content is extracted into (replaced); empty:
	// the content is verified and decrypted only, its plaintext discarded.
	Dir string
	// Foreground is the assignment's DO priority.
	Foreground bool
}

// Request is one download as a Downloader sees it.
type Request struct {
	*Content
	// Path is the target file (Target.Bin).
	Path       string
	Foreground bool
}

// Downloader starts one content download: the strategy (origin and
// cache host, or DO peers). It returns once the download runs; ctx
// governs the whole download. A Downloader that needs piece hashes asks
// Request.PieceHashes. Its errors name only what the caller does not
// know (fetch's or peer's own prefix), not the step or the DoFileId.
type Downloader interface {
	Start(ctx context.Context, req Request) (*Transfer, error)
}

// Transfer is a started download: its Job (nil when nothing downloads,
// the file already whole) and the wait for its end.
type Transfer struct {
	Job  *fetch.Job
	wait func() (peer.Result, error)
	// piecesChecked, when set, vouches once the Job is complete that
	// every piece was checked against its piece hash; the unpack that
	// follows the Job then skips the HMAC pass (decrypt.OpenOptions).
	piecesChecked func() error
}

// NewTransfer is a download whose Job is job (may be nil) and whose end
// wait reports; wait is called once.
func NewTransfer(job *fetch.Job, wait func() (peer.Result, error)) *Transfer {
	return &Transfer{Job: job, wait: wait}
}

// PeerTransfer is t as a Transfer; after, when set, is called with what
// t.Wait returned, once, before the Transfer's wait returns it. When t
// checks its pieces against the piece hashes (the peer modes), that check
// stands in for the HMAC of the unpack that follows it: one SHA-256 pass
// over the bytes, not two.
func PeerTransfer(t *peer.Transfer, after func(peer.Result, error)) *Transfer {
	wait := t.Wait
	if after != nil {
		wait = func() (peer.Result, error) {
			res, err := t.Wait()
			after(res, err)
			return res, err
		}
	}
	tr := NewTransfer(t.Job(), wait)
	if t.Hashed() {
		tr.piecesChecked = t.CheckPieces
	}
	return tr
}

// JobTransfer runs job in the background and is it as a Transfer.
func JobTransfer(ctx context.Context, job *fetch.Job) *Transfer {
	type end struct {
		st  fetch.Status
		err error
	}
	done := make(chan end, 1)
	go func() {
		st, err := job.Run(ctx)
		done <- end{st, err}
	}()
	return NewTransfer(job, func() (peer.Result, error) {
		e := <-done
		return peer.Result{Status: e.st}, e.err
	})
}

// Result is what a delivery did.
type Result struct {
	// Download is the download's record (DO status, bytes per source).
	peer.Result
	// Unpacked says the content verified (HMAC, or every piece against its
	// piece hash, and FileDigest) while it downloaded and, with
	// Target.Dir, is extracted there. When false the caller unpacks (or
	// verifies) the finished file, which decides.
	Unpacked bool
	// UnpackErr is why the overlapped unpack did not complete (nil when
	// it did, or when there was no Job to follow).
	UnpackErr error
}

// Delivery is a started delivery: the download runs and, when it has a
// Job, the unpack follows it.
type Delivery struct {
	// Job is the download's Job, nil when nothing downloads.
	Job    *fetch.Job
	tr     *Transfer
	cancel context.CancelFunc
	unpack chan error // nil when nothing follows the Job
}

// Start starts c's download with dl into t.Bin and, while it runs,
// verifies, decrypts and (with t.Dir) extracts the part of the file
// already complete (fetch.PrefixReader → decrypt), so that when the
// last piece lands only its own share of the work is left. It returns
// once the download runs; Wait gives the outcome.
func Start(ctx context.Context, c *Content, dl Downloader, t Target) (*Delivery, error) {
	ctx, cancel := context.WithCancel(ctx)
	tr, err := dl.Start(ctx, Request{Content: c, Path: t.Bin, Foreground: t.Foreground})
	if err != nil {
		cancel()
		return nil, err
	}
	d := &Delivery{Job: tr.Job, tr: tr, cancel: cancel}
	if tr.Job != nil {
		d.unpack = make(chan error, 1)
		go func() {
			pr := tr.Job.NewPrefixReader(ctx)
			defer pr.Close()
			d.unpack <- follow(ctx, pr, c.Keys, t.Dir, tr.piecesChecked)
		}()
	}
	return d, nil
}

// follow verifies and decrypts r into dir, or into nothing when dir is
// "". checked, when set, stands in for the HMAC (decrypt.OpenOptions).
func follow(ctx context.Context, r io.Reader, keys decrypt.Keys, dir string, checked func() error) error {
	if dir != "" {
		_, err := decrypt.UnpackReader(ctx, r, keys, dir, decrypt.UnpackOptions{Replace: true, PiecesChecked: checked})
		return err
	}
	res, err := decrypt.OpenWith(ctx, io.Discard, r, keys, decrypt.OpenOptions{PiecesChecked: checked})
	if err == nil && !res.Verified() {
		err = fmt.Errorf("delivery: content not verified")
	}
	return err
}

// Wait blocks until the download and the unpack following it end, and
// returns the download's error if it failed. Call it once.
func (d *Delivery) Wait() (Result, error) {
	defer d.cancel()
	var res Result
	var err error
	res.Result, err = d.tr.wait()
	if err != nil {
		d.cancel() // the unpack stops at the prefix the download left
	}
	if d.unpack != nil {
		res.UnpackErr = <-d.unpack
		res.Unpacked = err == nil && res.UnpackErr == nil
	}
	return res, err
}
