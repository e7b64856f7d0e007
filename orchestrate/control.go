package orchestrate

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/imepipe/imepipe/orchestrate/state"
)

// Control is what the CLI asks of an agent: *Agent (state.db opened
// directly) and *Remote (a running agent, through its control socket)
// both implement it.
type Control interface {
	Status(ctx context.Context) (Status, error)
	SyncKind(ctx context.Context, kind string) error
	Install(ctx context.Context, appID string) (AppStatus, error)
	Uninstall(ctx context.Context, appID string) (AppStatus, error)
	ResetGRS(ctx context.Context, appID string) (int, error)
	Reg(ctx context.Context, req RegRequest) (RegResult, error)
	Health(ctx context.Context) (Health, error)
}

// RegRequest is one `imepipe reg` command on the emulated registry.
type RegRequest struct {
	Action   string `json:"action"` // add, query, delete
	Key      string `json:"key"`
	Value    string `json:"value,omitempty"`    // /v NAME ("" with HasValue: /ve, the default value)
	HasValue bool   `json:"hasValue,omitempty"` // /v or /ve given
	AllVals  bool   `json:"allValues,omitempty"`
	Type     string `json:"type,omitempty"` // /t
	Data     string `json:"data,omitempty"` // /d
}

// RegResult is the key after the command (for query).
type RegResult struct {
	Key     state.RegKey `json:"key"`
	Subkeys []string     `json:"subkeys,omitempty"`
}

// Reg runs a registry command.
func (a *Agent) Reg(_ context.Context, r RegRequest) (RegResult, error) {
	switch r.Action {
	case "add":
		var v *state.RegValue
		if r.HasValue {
			val, err := state.ParseValue(r.Value, r.Type, r.Data)
			if err != nil {
				return RegResult{}, err
			}
			v = &val
		}
		if err := a.store.RegAdd(r.Key, v); err != nil {
			return RegResult{}, err
		}
	case "delete":
		var err error
		switch {
		case r.AllVals:
			err = a.store.RegDeleteValue(r.Key, "", true)
		case r.HasValue:
			err = a.store.RegDeleteValue(r.Key, r.Value, false)
		default:
			err = a.store.RegDeleteKey(r.Key)
		}
		return RegResult{}, err
	case "query":
	default:
		return RegResult{}, fmt.Errorf("orchestrate: reg action %q: %w", r.Action, state.ErrBadKey)
	}
	k, subs, err := a.store.RegQuery(r.Key)
	if err != nil {
		return RegResult{}, err
	}
	if r.Action == "query" && r.HasValue {
		v, err := a.store.RegGet(r.Key, r.Value)
		if err != nil {
			return RegResult{}, err
		}
		k.Values, subs = []state.RegValue{v}, nil
	}
	return RegResult{Key: k, Subkeys: subs}, nil
}

// request and response of the control protocol: one JSON object each
// way per connection.
type request struct {
	Op    string     `json:"op"`
	AppID string     `json:"appId,omitempty"`
	Kind  string     `json:"kind,omitempty"`
	Reg   RegRequest `json:"reg"`
}

type response struct {
	Error  string          `json:"error,omitempty"`
	Kind   string          `json:"kind,omitempty"` // sentinel name of Error
	Result json.RawMessage `json:"result,omitempty"`
}

// sentinels travel by name so errors.Is works on the client side.
var sentinels = map[string]error{
	"unknown-app": ErrUnknownApp, "not-enrolled": ErrNotEnrolled, "not-found": state.ErrNotFound,
	"bad-key": state.ErrBadKey, "required-app": ErrRequiredApp, "closed": ErrClosed, "rule": ErrRule,
}

func (a *Agent) listen() error {
	ln, err := listenControl(a.layout.Socket)
	if err != nil {
		return fmt.Errorf("orchestrate: control socket: %w", err)
	}
	a.ln = ln
	a.ctlWG.Add(1)
	go func() {
		defer a.ctlWG.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			a.ctlWG.Add(1)
			go func() {
				defer a.ctlWG.Done()
				a.serveConn(c)
			}()
		}
	}()
	return nil
}

func (a *Agent) serveConn(c net.Conn) {
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var req request
	if err := json.NewDecoder(io.LimitReader(c, 1<<20)).Decode(&req); err != nil {
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, err := a.dispatch(ctx, req)
	var resp response
	if err != nil {
		resp.Error = err.Error()
		for name, s := range sentinels {
			if errors.Is(err, s) {
				resp.Kind = name
			}
		}
	} else if res != nil {
		resp.Result, _ = json.Marshal(res)
	}
	_ = json.NewEncoder(c).Encode(resp)
}

func (a *Agent) dispatch(ctx context.Context, r request) (any, error) {
	switch r.Op {
	case "status":
		return a.Status(ctx)
	case "sync":
		return nil, a.SyncKind(ctx, r.Kind)
	case "install":
		return a.Install(ctx, r.AppID)
	case "uninstall":
		return a.Uninstall(ctx, r.AppID)
	case "grs-reset":
		return a.ResetGRS(ctx, r.AppID)
	case "reg":
		return a.Reg(ctx, r.Reg)
	case "health":
		return a.Health(ctx)
	}
	return nil, fmt.Errorf("orchestrate: unknown control op %q", r.Op)
}

// Remote is a running agent reached through its control socket (on
// Windows the named pipe derived from Socket's path; see listenControl).
type Remote struct{ Socket string }

// remoteError is an agent's error as the client sees it.
type remoteError struct {
	msg string
	err error
}

func (e *remoteError) Error() string { return e.msg }
func (e *remoteError) Unwrap() error { return e.err }

func (r *Remote) call(ctx context.Context, req request, out any) error {
	c, err := dialControl(ctx, r.Socket)
	if err != nil {
		return fmt.Errorf("orchestrate: %w: %w", ErrNoAgent, err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if err := json.NewEncoder(c).Encode(req); err != nil {
		return fmt.Errorf("orchestrate: control socket: %w", err)
	}
	var resp response
	if err := json.NewDecoder(bufio.NewReader(io.LimitReader(c, 64<<20))).Decode(&resp); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("orchestrate: control socket: %w", err)
	}
	if resp.Error != "" {
		return &remoteError{msg: resp.Error, err: sentinels[resp.Kind]}
	}
	if out != nil && resp.Result != nil {
		if err := json.Unmarshal(resp.Result, out); err != nil {
			return fmt.Errorf("orchestrate: control socket answer: %w", err)
		}
	}
	return nil
}

func (r *Remote) Status(ctx context.Context) (s Status, err error) {
	err = r.call(ctx, request{Op: "status"}, &s)
	return s, err
}

func (r *Remote) SyncKind(ctx context.Context, kind string) error {
	return r.call(ctx, request{Op: "sync", Kind: kind}, nil)
}

func (r *Remote) Install(ctx context.Context, appID string) (s AppStatus, err error) {
	err = r.call(ctx, request{Op: "install", AppID: appID}, &s)
	return s, err
}

func (r *Remote) Uninstall(ctx context.Context, appID string) (s AppStatus, err error) {
	err = r.call(ctx, request{Op: "uninstall", AppID: appID}, &s)
	return s, err
}

func (r *Remote) ResetGRS(ctx context.Context, appID string) (n int, err error) {
	err = r.call(ctx, request{Op: "grs-reset", AppID: appID}, &n)
	return n, err
}

func (r *Remote) Reg(ctx context.Context, req RegRequest) (res RegResult, err error) {
	err = r.call(ctx, request{Op: "reg", Reg: req}, &res)
	return res, err
}

func (r *Remote) Health(ctx context.Context) (h Health, err error) {
	err = r.call(ctx, request{Op: "health"}, &h)
	return h, err
}

// Connect reaches the agent of root: through its control socket when one
// is running, else by opening state.db directly (Open: an *Agent without
// a socket; close it with the returned closer). cfg.Root is set to root.
func Connect(ctx context.Context, root string, cfg Config) (Control, io.Closer, error) {
	r := &Remote{Socket: LayoutOf(root).Socket}
	dctx, cancel := context.WithTimeout(ctx, time.Second)
	c, err := dialControl(dctx, r.Socket)
	cancel()
	if err == nil {
		c.Close()
		return r, io.NopCloser(nil), nil
	}
	cfg.Root = root
	a, err := Open(cfg)
	if err != nil {
		return nil, nil, err
	}
	return a, a, nil
}
