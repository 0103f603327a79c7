package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/pintu/pintu/controller"
	"github.com/pintu/pintu/controller/api"
	"github.com/pintu/pintu/controller/mqttlink"
	"github.com/pintu/pintu/controller/remote"
)

func init() {
	commands = append(commands,
		&command{
			name:     "keygen",
			synopsis: "--out FILE",
			short:    "make a coordinator's Ed25519 key pair for remote commands: the private key goes to FILE (mode 0600), the public key is printed",
			required: []string{"out"},
			setup:    keygen,
		},
		&command{
			name:     "key add",
			synopsis: "--person ID --pub FILE",
			short:    "register a coordinator's public key (PEM) for remote commands",
			required: []string{"person", "pub"},
			setup:    keyAdd,
		},
		&command{
			name:  "key list",
			short: "list remote command keys",
			setup: noFlags((*cli).keyList),
		},
		&command{
			name:     "key revoke",
			synopsis: "--key ID",
			short:    "revoke a remote command key; its commands are refused from then on",
			required: []string{"key"},
			setup:    keyRevoke,
		},
	)
	for _, a := range remote.Actions() {
		commands = append(commands, remoteCommand(a))
	}
	groups["key"] = true
	groups["remote"] = true
}

func keygen(fs *flag.FlagSet) action {
	out := fs.String("out", "", "write the private key to `FILE` (must not exist)")
	return func(_ context.Context, c *cli, _ []string) error {
		pubKey, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return err
		}
		privPEM, err := remote.MarshalPrivateKey(priv)
		if err != nil {
			return err
		}
		pubPEM, err := remote.MarshalPublicKey(pubKey)
		if err != nil {
			return err
		}
		f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("write private key: %w", err)
		}
		if _, err := f.Write(privPEM); err != nil {
			f.Close()
			return fmt.Errorf("write private key: %w", err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("write private key: %w", err)
		}
		if c.json {
			b, _ := json.Marshal(map[string]string{"key_id": remote.KeyID(pubKey), "public_key": string(pubPEM), "private_key_file": *out})
			return c.printJSON(b)
		}
		fmt.Fprintf(c.stderr, "private key written to %s (keep it secret); key id %s\n", *out, remote.KeyID(pubKey))
		_, err = c.stdout.Write(pubPEM)
		return err
	}
}

func keyAdd(fs *flag.FlagSet) action {
	person := fs.String("person", "", "the coordinator's person `ID`")
	pubFile := fs.String("pub", "", "the public key `FILE` (PEM) that keygen printed")
	return func(ctx context.Context, c *cli, _ []string) error {
		data, err := os.ReadFile(*pubFile)
		if err != nil {
			return fmt.Errorf("read public key: %w", err)
		}
		if _, err := remote.ParsePublicKey(data); err != nil {
			return err
		}
		raw, err := c.client().call(ctx, http.MethodPost, "/v1/keys", nil, map[string]string{"person": *person, "public_key": string(data)})
		if err != nil {
			return err
		}
		return output(c, raw, func(k api.KeyInfo) error {
			return c.say(fmt.Sprintf("key %s added for %s", k.ID, k.Person))
		})
	}
}

func (c *cli) keyList(ctx context.Context, _ []string) error {
	raw, err := c.client().call(ctx, http.MethodGet, "/v1/keys", nil, nil)
	if err != nil {
		return err
	}
	return output(c, raw, func(ks []api.KeyInfo) error {
		tw := newTable(c.stdout)
		tw.row(c.tr("KEY"), c.tr("PERSON"), c.tr("ADDED"), c.tr("REVOKED"))
		for _, k := range ks {
			tw.row(k.ID, k.Person, c.whenRFC3339(k.AddedAt), c.whenRFC3339(k.RevokedAt))
		}
		return tw.Flush()
	})
}

func keyRevoke(fs *flag.FlagSet) action {
	id := fs.String("key", "", "the key `ID` (ed25519:...) to revoke")
	return func(ctx context.Context, c *cli, _ []string) error {
		raw, err := c.client().call(ctx, http.MethodPost, "/v1/keys/revoke", nil, map[string]string{"key": *id})
		if err != nil {
			return err
		}
		return output(c, raw, func(k api.KeyInfo) error {
			return c.say(fmt.Sprintf("key %s revoked", k.ID))
		})
	}
}

// errRefused is a remote command pintud refused; run prints the reason.
var errRefused = errors.New("refused")

func remoteCommand(a remote.Action) *command {
	syn := "--broker URL --door DOOR --key FILE --reason TEXT"
	if a == remote.ActionUnlock {
		syn += " [--visit V] [--duration D]"
	}
	return &command{
		name:     "remote " + string(a),
		synopsis: syn + " [--username U --password-file F] [--ca FILE --cert FILE --key-file FILE] [--prefix P] [--timeout D]",
		short:    "sign a " + string(a) + " command, send it over MQTT and wait for pintud's answer (exit 1 if refused)",
		required: []string{"broker", "door", "key", "reason"},
		setup:    func(fs *flag.FlagSet) action { return remoteAction(fs, a) },
	}
}

func remoteAction(fs *flag.FlagSet, a remote.Action) action {
	broker := fs.String("broker", "", "the broker `URL`: tcp://host:1883 or ssl://host:8883")
	door := fs.String("door", "", "the `DOOR`'s name")
	keyFile := fs.String("key", "", "the coordinator's private key `FILE` (from keygen)")
	reason := fs.String("reason", "", "why, for the audit log, as `TEXT`")
	visit := new(string)
	duration := new(time.Duration)
	if a == remote.ActionUnlock {
		fs.StringVar(visit, "visit", "", "the approved `VISIT` the unlock is for; the visitor still needs an escort to badge")
		fs.DurationVar(duration, "duration", remote.DefaultUnlock, "how long to release the strike, at most 5m")
	}
	user := fs.String("username", "", "broker user `NAME`")
	passFile := fs.String("password-file", "", "`FILE` holding the broker password")
	ca := fs.String("ca", "", "CA certificate `FILE` (PEM) for ssl://")
	cert := fs.String("cert", "", "client certificate `FILE` (PEM) for mutual TLS")
	certKey := fs.String("key-file", "", "client certificate's key `FILE` (PEM)")
	prefix := fs.String("prefix", mqttlink.DefaultPrefix(controller.DefaultConfig().Site), "the site's topic `PREFIX` (pintu/<site slug>)")
	timeout := fs.Duration("timeout", 10*time.Second, "how long to wait for the answer")
	return func(ctx context.Context, c *cli, _ []string) error {
		data, err := os.ReadFile(*keyFile)
		if err != nil {
			return fmt.Errorf("read key: %w", err)
		}
		priv, err := remote.ParsePrivateKey(data)
		if err != nil {
			return err
		}
		cmd := remote.Command{Door: *door, Action: a, Duration: *duration, Visit: *visit, Reason: *reason, IssuedAt: c.now()}
		cmd = cmd.WithDefaults()
		payload, err := remote.Sign(cmd, priv)
		if err != nil {
			return err
		}
		opts := mqtt.NewClientOptions().AddBroker(*broker).SetClientID("pintuctl-" + cmd.ID[:12]).
			SetUsername(*user).SetCleanSession(true).SetConnectTimeout(*timeout).SetAutoReconnect(false)
		if *passFile != "" {
			p, err := os.ReadFile(*passFile)
			if err != nil {
				return fmt.Errorf("read password: %w", err)
			}
			opts.SetPassword(strings.TrimRight(string(p), "\r\n"))
		}
		if tc, err := tlsConfig(*ca, *cert, *certKey); err != nil {
			return err
		} else if tc != nil {
			opts.SetTLSConfig(tc)
		}
		results := make(chan controller.RemoteResult, 8)
		cl := mqtt.NewClient(opts)
		if tok := cl.Connect(); !tok.WaitTimeout(*timeout) || tok.Error() != nil {
			return fmt.Errorf("connect to %s: %v", *broker, orTimeout(tok.Error()))
		}
		defer cl.Disconnect(100)
		resultTopic := *prefix + "/" + *door + "/cmd/result"
		tok := cl.Subscribe(resultTopic, 1, func(_ mqtt.Client, m mqtt.Message) {
			var r controller.RemoteResult
			if json.Unmarshal(m.Payload(), &r) == nil && r.ID == cmd.ID {
				select {
				case results <- r:
				default:
				}
			}
		})
		if !tok.WaitTimeout(*timeout) || tok.Error() != nil {
			return fmt.Errorf("subscribe %s: %v", resultTopic, orTimeout(tok.Error()))
		}
		if tok := cl.Publish(*prefix+"/"+*door+"/cmd", 1, false, payload); !tok.WaitTimeout(*timeout) || tok.Error() != nil {
			return fmt.Errorf("publish: %v", orTimeout(tok.Error()))
		}
		select {
		case r := <-results:
			if c.json {
				b, _ := json.Marshal(r)
				if err := c.printJSON(b); err != nil {
					return err
				}
			} else if r.Accepted {
				c.say(fmt.Sprintf("%s accepted (command %s, audit event %d)", a, r.ID, r.Seq))
			}
			if !r.Accepted {
				return fmt.Errorf("%w: %s: %s", errRefused, r.Reason, r.Detail)
			}
			return nil
		case <-time.After(*timeout):
			return fmt.Errorf("no answer from pintud within %v on %s (is pintud connected, and may this user read it?)", *timeout, resultTopic)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func orTimeout(err error) error {
	if err == nil {
		return errors.New("timed out")
	}
	return err
}

// tlsConfig builds the client TLS configuration from PEM files; nil when
// none is given.
func tlsConfig(ca, cert, key string) (*tls.Config, error) {
	if ca == "" && cert == "" && key == "" {
		return nil, nil
	}
	if (cert == "") != (key == "") {
		return nil, errors.New("--cert and --key-file go together")
	}
	return mqttlink.TLSConfig(ca, cert, key)
}
