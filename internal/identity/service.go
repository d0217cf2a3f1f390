package identity

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Config tunes the identity service. Only Key is required.
type Config struct {
	// Key signs tokens (HMAC-SHA256), at least 32 bytes. Every node that
	// must accept a token needs the same key; LoadOrCreateKey keeps one in
	// the data directory.
	Key []byte
	// OldKeys are earlier keys whose tokens are still accepted (but no
	// longer issued), so a key can be rotated without logging everyone out.
	OldKeys [][]byte
	// TokenTTL is how long a token lives; default one hour, as Keystone.
	TokenTTL time.Duration
	// Now is the clock; tests inject one. Default time.Now.
	Now func() time.Time
	// PasswordCost is the bcrypt cost of new password hashes; default 10.
	// It is taken as given (bcrypt allows 4..31): the configuration file,
	// where operators set it, refuses less than 10; tests ask for less
	// explicitly to run faster.
	PasswordCost int
	// TokenCache, when set, is told whether each token validation was
	// answered from the cache (metrics).
	TokenCache func(hit bool)

	// Login throttling (throttle.go): after MaxLoginFailures failed
	// password logins for one user from one source, each less than
	// FailureWindow after the previous one, further attempts from that
	// source are refused (still 401) for LockoutBase, doubling with every
	// later failure up to LockoutMax. SourceFailures failures from one
	// source for any names lock the source; UserFailures for one user from
	// any sources lock the user except from sources it signed in from
	// before. Defaults 5, 15 minutes, 15 seconds, 15 minutes, 20 and 50.
	MaxLoginFailures int
	SourceFailures   int
	UserFailures     int
	FailureWindow    time.Duration
	LockoutBase      time.Duration
	LockoutMax       time.Duration

	// TokenCacheTTL is how long a validated token is taken as valid
	// without looking at the store again: the window in which a
	// revocation, a disabled user or a removed role made on another node
	// goes unnoticed here (changes made on this node apply at once).
	// Default 5 seconds (keystonemiddleware caches for 5 minutes);
	// negative turns the cache off.
	TokenCacheTTL time.Duration

	// Log receives security events (throttled logins); default discards.
	Log *slog.Logger
}

// Defaults for Config.
const (
	DefaultTokenTTL         = time.Hour
	DefaultPasswordCost     = 10
	DefaultMaxLoginFailures = 5
	DefaultSourceFailures   = 20
	DefaultUserFailures     = 50
	DefaultFailureWindow    = 15 * time.Minute
	DefaultLockoutBase      = 15 * time.Second
	DefaultLockoutMax       = 15 * time.Minute
	DefaultTokenCacheTTL    = 5 * time.Second
)

// Service is the identity service: logins, tokens and the management of
// domains, projects, users, roles and assignments. It keeps no state of
// its own besides its configuration, so any number of nodes can serve the
// same store with the same key.
type Service struct {
	store Store
	cfg   Config
	keys  [][]byte // cfg.Key first
	log   *slog.Logger
	// hashSlots bounds concurrent bcrypt work, so a flood of logins queues
	// instead of taking every CPU from the image API.
	hashSlots chan struct{}
	// throttle counts failed logins and bounds the logins in progress;
	// maxWaiting is how many may be in progress at once.
	throttle   *throttle
	maxWaiting int
	// validated caches recent token validations (see tokencache.go).
	validated tokenCache
}

// NewService returns a service over store.
func NewService(store Store, cfg Config) (*Service, error) {
	if len(cfg.Key) < minKeyLen {
		return nil, fmt.Errorf("identity: token key must be at least %d bytes, have %d", minKeyLen, len(cfg.Key))
	}
	keys := [][]byte{cfg.Key}
	for i, k := range cfg.OldKeys {
		if len(k) < minKeyLen {
			return nil, fmt.Errorf("identity: old token key %d is shorter than %d bytes", i, minKeyLen)
		}
		keys = append(keys, k)
	}
	if cfg.TokenTTL < 0 {
		return nil, fmt.Errorf("identity: negative token lifetime %s", cfg.TokenTTL)
	}
	setDefaults(&cfg)
	if cfg.PasswordCost < bcrypt.MinCost || cfg.PasswordCost > bcrypt.MaxCost {
		return nil, fmt.Errorf("identity: password hash cost %d is outside %d..%d", cfg.PasswordCost, bcrypt.MinCost, bcrypt.MaxCost)
	}
	s := &Service{store: store, cfg: cfg, keys: keys, log: cfg.Log,
		hashSlots: make(chan struct{}, max(1, runtime.NumCPU())),
		validated: tokenCache{ttl: cfg.TokenCacheTTL}}
	// One check of a throwaway hash tells how long a check takes here,
	// the time locked and unknown users are answered in until real
	// checks refine it.
	dummy, err := bcrypt.GenerateFromPassword([]byte(RandomPassword()), cfg.PasswordCost)
	if err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	began := time.Now()
	_ = bcrypt.CompareHashAndPassword(dummy, []byte("x"))
	s.throttle = newThrottle(time.Since(began))
	s.maxWaiting = max(16, 8*cap(s.hashSlots))
	return s, nil
}

func setDefaults(cfg *Config) {
	if cfg.TokenTTL == 0 {
		cfg.TokenTTL = DefaultTokenTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PasswordCost == 0 {
		cfg.PasswordCost = DefaultPasswordCost
	}
	if cfg.MaxLoginFailures <= 0 {
		cfg.MaxLoginFailures = DefaultMaxLoginFailures
	}
	if cfg.SourceFailures <= 0 {
		cfg.SourceFailures = DefaultSourceFailures
	}
	if cfg.UserFailures <= 0 {
		cfg.UserFailures = DefaultUserFailures
	}
	if cfg.FailureWindow <= 0 {
		cfg.FailureWindow = DefaultFailureWindow
	}
	if cfg.LockoutBase <= 0 {
		cfg.LockoutBase = DefaultLockoutBase
	}
	if cfg.LockoutMax <= 0 {
		cfg.LockoutMax = DefaultLockoutMax
	}
	if cfg.TokenCacheTTL == 0 {
		cfg.TokenCacheTTL = DefaultTokenCacheTTL
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
}

func (s *Service) now() time.Time { return s.cfg.Now() }

// KeyFileName is the conventional name of the token key file in the data
// directory.
const KeyFileName = "identity.key"

// LoadOrCreateKey returns the token signing key stored at path, creating
// the file (mode 0600) with 32 random bytes if it does not exist. The file
// holds the key in hex, so operators can make one for several nodes with
// `openssl rand -hex 32`. A file that exists but is unusable is an error,
// never silently replaced: other nodes may share it.
func LoadOrCreateKey(path string) ([]byte, error) {
	text, err := os.ReadFile(path)
	if err == nil {
		key, err := hex.DecodeString(string(bytes.TrimSpace(text)))
		if err != nil {
			return nil, fmt.Errorf("identity: key file %s does not hold a hex key: %w", path, err)
		}
		if len(key) < minKeyLen {
			return nil, fmt.Errorf("identity: key file %s holds %d bytes, want at least %d", path, len(key), minKeyLen)
		}
		return key, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("identity: key file: %w", err)
	}
	key := make([]byte, minKeyLen)
	rand.Read(key)
	// O_EXCL: if another process created the file meanwhile, use its key.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return LoadOrCreateKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("identity: key file: %w", err)
	}
	_, err = f.WriteString(hex.EncodeToString(key) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if err = errors.Join(err, f.Close()); err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("identity: key file: %w", err)
	}
	syncDir(filepath.Dir(path))
	return key, nil
}

// syncDir makes a new directory entry durable; failure only weakens
// crash safety, so it is not reported.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
