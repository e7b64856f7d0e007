package main

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"runtime"
	"syscall"
)

// stopSignal is the cause of a run's context being cancelled by Ctrl-C
// (os.Interrupt) or SIGTERM: the exit status then says so, as a shell
// expects of a program a signal stopped.
type stopSignal struct{ sig os.Signal }

func (s *stopSignal) Error() string { return s.sig.String() + " signal received" }

// exitStatus is 128 + the signal's number, as shells report a process a
// signal stopped (130 for Ctrl-C, 143 for SIGTERM); on Windows it is
// STATUS_CONTROL_C_EXIT (0xC000013A), what cmd.exe shows for a program
// ended by Ctrl-C or Ctrl-Break.
func (s *stopSignal) exitStatus() int {
	if runtime.GOOS == "windows" {
		return 0xC000013A
	}
	if n, ok := s.sig.(syscall.Signal); ok {
		return 128 + int(n)
	}
	return 130
}

// notifySignals is signal.NotifyContext for Ctrl-C and SIGTERM with a
// cause that keeps the signal (stopSignal). A second signal is diverted
// too: the run winds down the way the first asked.
func notifySignals(parent context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case s := <-ch:
			cancel(&stopSignal{sig: s})
		case <-ctx.Done():
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		cancel(nil)
	}
}

// signalStatus is the exit status of a run that failed after a signal
// cancelled ctx, and whether one did.
func signalStatus(ctx context.Context) (int, bool) {
	var s *stopSignal
	if !errors.As(context.Cause(ctx), &s) {
		return 0, false
	}
	return s.exitStatus(), true
}
