package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/auth"
	"github.com/g-oc/goc/internal/config"
)

// tokenEntries turns the config's tokens into auth entries.
func tokenEntries(ts []config.Token) []auth.Entry {
	entries := make([]auth.Entry, len(ts))
	for i, t := range ts {
		entries[i] = auth.Entry{Name: t.Name, Agency: t.Agency, SHA256: t.SHA256, Role: t.Role,
			Expires: t.Expires, KeepAfterMerger: t.KeepAfterMerger}
	}
	return entries
}

// newKeyring checks tokens against the registry: a token of an agency that no longer
// exists (the 2025 merger) stops working unless its entry keeps it.
func newKeyring(tokens *auth.Tokens, reg *indicators.Registry) *auth.Keyring {
	return auth.NewKeyring(tokens, time.Now, func(code string, at time.Time) bool {
		a, ok := reg.Get(code)
		return ok && a.ActiveOn(at)
	})
}

// reloadTokens re-reads the config file's tokens on SIGHUP and whenever the file
// changes (its size or modification time, looked at every `every`), and swaps them into
// k, so that a token removed or expired in the file stops working without a restart.
// A file that no longer loads is logged and the tokens in force are kept.
func reloadTokens(ctx context.Context, path string, k *auth.Keyring, reg *indicators.Registry, every time.Duration, log *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	tick := time.NewTicker(every)
	defer tick.Stop()
	stamp := func() (time.Time, int64) {
		fi, err := os.Stat(path)
		if err != nil {
			return time.Time{}, -1
		}
		return fi.ModTime(), fi.Size()
	}
	mod, size := stamp()
	load := func(why string) {
		cfg, err := config.Load(path)
		if err == nil {
			err = cfg.CheckAgencies(func(code string) bool { _, ok := reg.Get(code); return ok })
		}
		var tokens *auth.Tokens
		if err == nil {
			tokens, err = auth.NewTokens(tokenEntries(cfg.Tokens))
		}
		if err != nil {
			log.Error("không nạp lại được mã truy cập, giữ bộ cũ / tokens not reloaded, keeping those in force", "config", path, "why", why, "err", err)
			return
		}
		k.Replace(tokens)
		log.Info("đã nạp lại mã truy cập / tokens reloaded", "config", path, "why", why, "tokens", tokens.Len())
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			mod, size = stamp()
			load("SIGHUP")
		case <-tick.C:
			if m, s := stamp(); !m.Equal(mod) || s != size {
				mod, size = m, s
				load("file changed")
			}
		}
	}
}
