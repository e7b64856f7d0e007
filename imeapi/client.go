package imeapi

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// maxResponse bounds what the Client reads of one answer.
const maxResponse = 64 << 20

// Client is the typed client of the service, used by the agent and the
// fleet bench. It is safe for concurrent use once enrolled.
type Client struct {
	// BaseURL is the service's URL, e.g. "https://127.0.0.1:8080" (see
	// ClientTLS for a client that trusts a service's generated CA).
	BaseURL string
	// Token is the bearer token; Enroll sets it, with DeviceID.
	Token    string
	DeviceID string
	// HTTP is the client used; http.DefaultClient if nil.
	HTTP *http.Client
	// DeviceProperties, when not nil, are sent at enrollment and with
	// every Policies call (then a POST with a SyncRequest).
	DeviceProperties map[string]string
}

// NewClient returns a Client of the service at baseURL.
func NewClient(baseURL string, hc *http.Client) *Client {
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), HTTP: hc}
}

// Enroll enrolls a device with the shared secret and its X25519 public
// key, and keeps the returned token and device id.
func (c *Client) Enroll(ctx context.Context, name, secret string, pub *ecdh.PublicKey, groups ...string) (EnrollResponse, error) {
	req := EnrollRequest{DeviceName: name, EnrollmentSecret: secret, PublicKey: base64.StdEncoding.EncodeToString(pub.Bytes()), Groups: groups,
		DeviceProperties: c.DeviceProperties}
	var resp EnrollResponse
	if err := c.do(ctx, http.MethodPost, "/api/v1/enroll", req, &resp); err != nil {
		return resp, err
	}
	c.Token, c.DeviceID = resp.Token, resp.DeviceID
	return resp, nil
}

// Policies returns the apps assigned to this device, reporting
// DeviceProperties when set.
func (c *Client) Policies(ctx context.Context) (Policies, error) {
	var p Policies
	if c.DeviceProperties != nil {
		err := c.do(ctx, http.MethodPost, "/api/v1/policies", SyncRequest{DeviceProperties: c.DeviceProperties}, &p)
		return p, err
	}
	err := c.do(ctx, http.MethodGet, "/api/v1/policies", nil, &p)
	return p, err
}

// ContentInfo asks where an app version's content is and for its sealed
// DecryptInfo; open that with OpenDecryptInfo.
func (c *Client) ContentInfo(ctx context.Context, appID, version string) (ContentInfoResponse, error) {
	var resp ContentInfoResponse
	err := c.do(ctx, http.MethodPost, "/api/v1/contentinfo", ContentInfoRequest{AppID: appID, Version: version}, &resp)
	return resp, err
}

// PieceHashes fetches a piece hash file, given ContentInfo.PieceHashesURL
// (absolute, or a path on BaseURL).
func (c *Client) PieceHashes(ctx context.Context, url string) (PieceHashes, error) {
	var p PieceHashes
	err := c.do(ctx, http.MethodGet, url, nil, &p)
	return p, err
}

// Array registers what this peer holds of a file and returns its peers.
func (c *Client) Array(ctx context.Context, req ArrayRequest) (ArrayResponse, error) {
	var resp ArrayResponse
	err := c.do(ctx, http.MethodPost, "/do/v1/array", req, &resp)
	return resp, err
}

// LeaveArray removes every registration of this device from the DO
// Array (DELETE /do/v1/array), when its peer stops serving; it returns
// how many were removed.
func (c *Client) LeaveArray(ctx context.Context) (int, error) {
	var resp ArrayLeaveResponse
	err := c.do(ctx, http.MethodDelete, "/do/v1/array", nil, &resp)
	return resp.Removed, err
}

// Report sends app results.
func (c *Client) Report(ctx context.Context, reports ...Report) error {
	return c.do(ctx, http.MethodPost, "/api/v1/reports", ReportRequest{Reports: reports}, nil)
}

// Status returns the status view: this device's row, or every device's
// when Token is the admin token.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var s Status
	err := c.do(ctx, http.MethodGet, "/api/v1/status", nil, &s)
	return s, err
}

// OpenDecryptInfo opens an envelope addressed to this client's device.
func (c *Client) OpenDecryptInfo(priv *ecdh.PrivateKey, env Envelope) (DecryptInfo, error) {
	return OpenDecryptInfo(priv, c.DeviceID, env)
}

// do sends in as JSON (when not nil) and decodes the answer into out
// (when not nil). A non-2xx answer is an *APIError; a certificate that
// does not verify is a *TrustError.
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("imeapi: encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	url := path
	if !strings.HasPrefix(path, "http://") && !strings.HasPrefix(path, "https://") {
		url = c.BaseURL + path
	}
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return fmt.Errorf("imeapi: %w", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		if te := trustError(req.URL.Scheme+"://"+req.URL.Host, err); te != nil {
			return te
		}
		return fmt.Errorf("imeapi: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("imeapi: %s %s: %w", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := &APIError{StatusCode: resp.StatusCode}
		var eb ErrorBody
		if json.Unmarshal(data, &eb) == nil && eb.Error != "" {
			e.Message, e.Field = eb.Error, eb.Field
		} else {
			e.Message = http.StatusText(resp.StatusCode)
		}
		return e
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("imeapi: %s %s: decode answer: %w", method, path, err)
	}
	return nil
}
