package channel_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/parleyhq/parley/channel"
)

var (
	jpeg = append([]byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F', 0}, bytes.Repeat([]byte{1}, 100)...)
	png  = append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{2}, 100)...)
	gif  = append([]byte("GIF89a"), bytes.Repeat([]byte{3}, 100)...)
	pdf  = []byte("%PDF-1.7\n1 0 obj\n")
)

func nop() channel.Sender {
	return channel.SenderFunc(func(ctx context.Context, m *channel.Message) (channel.Receipt, error) {
		return channel.Receipt{ProviderID: "x"}, nil
	})
}

func TestKinds(t *testing.T) {
	for _, k := range channel.Kinds() {
		got, err := channel.ParseKind(k.String())
		if err != nil || got != k {
			t.Errorf("ParseKind(%q) = %v, %v", k, got, err)
		}
		b, err := json.Marshal(k)
		if err != nil || string(b) != `"`+k.String()+`"` {
			t.Errorf("json of %s = %s, %v", k, b, err)
		}
	}
	if _, err := channel.ParseKind("fax"); !errors.Is(err, channel.ErrUnknownKind) {
		t.Errorf("ParseKind(fax) err = %v", err)
	}
	if _, err := json.Marshal(channel.Kind(0)); err == nil {
		t.Error("marshalling the zero Kind succeeded")
	}
	if channel.Kind(99).String() != "kind(99)" {
		t.Error("String of invalid kind")
	}
}

// C1: a kind that is not registered is refused with a clear error.
func TestC1UnregisteredKind(t *testing.T) {
	r := channel.NewRegistry()
	if err := r.Register(channel.SMS, nop(), channel.Config{}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Sender(channel.SMS); err != nil {
		t.Fatalf("registered kind: %v", err)
	}
	_, err := r.Sender(channel.WhatsApp)
	if !errors.Is(err, channel.ErrNotRegistered) {
		t.Fatalf("unregistered kind: err = %v, want ErrNotRegistered", err)
	}
	if _, err := r.Capabilities(channel.Kind(0)); !errors.Is(err, channel.ErrUnknownKind) {
		t.Errorf("invalid kind: err = %v", err)
	}
	if err := r.Register(channel.Email, nil, channel.Config{}); !errors.Is(err, channel.ErrInvalidMessage) {
		t.Errorf("nil sender: err = %v", err)
	}
	if err := r.Register(channel.Kind(9), nop(), channel.Config{}); !errors.Is(err, channel.ErrUnknownKind) {
		t.Errorf("invalid kind: err = %v", err)
	}
	if got := fmt.Sprint(r.Kinds()); got != "[sms]" {
		t.Errorf("Kinds = %s", got)
	}
}

// C2: email and push require a subject; the others take none.
func TestC2SubjectRules(t *testing.T) {
	for _, k := range channel.Kinds() {
		c := channel.DefaultCapabilities(k)
		want := k == channel.Email || k == channel.Push
		if c.SubjectRequired != want {
			t.Errorf("%s SubjectRequired = %v, want %v", k, c.SubjectRequired, want)
		}
		if c.SubjectAllowed != want {
			t.Errorf("%s SubjectAllowed = %v, want %v", k, c.SubjectAllowed, want)
		}
	}
}

// C9: several identities per kind, one default, chosen per send.
func TestC9Identities(t *testing.T) {
	r := channel.NewRegistry()
	err := r.Register(channel.SMS, nop(), channel.Config{Identities: []channel.Identity{
		{ID: "fr", Address: "+33757000001", TwoWay: true, Pool: "fr-pool"},
		{ID: "alpha", Address: "STUDIO", Default: true},
	}})
	if err != nil {
		t.Fatal(err)
	}
	def, err := r.Identity(channel.SMS, "")
	if err != nil || def.ID != "alpha" || def.Kind != channel.SMS {
		t.Fatalf("default = %+v, %v", def, err)
	}
	fr, err := r.Identity(channel.SMS, "fr")
	if err != nil || fr.Address != "+33757000001" || !fr.TwoWay {
		t.Fatalf("chosen = %+v, %v", fr, err)
	}
	if _, err := r.Identity(channel.SMS, "nope"); !errors.Is(err, channel.ErrNoIdentity) {
		t.Fatalf("unknown identity: err = %v", err)
	}
	if id, ok := r.IdentityByAddress(channel.SMS, "+33757000001"); !ok || id.ID != "fr" {
		t.Fatalf("IdentityByAddress = %+v, %v", id, ok)
	}
	// first is the default when none is marked
	if err := r.Register(channel.Email, nop(), channel.Config{Identities: []channel.Identity{{ID: "a"}, {ID: "b"}}}); err != nil {
		t.Fatal(err)
	}
	if id, _ := r.Identity(channel.Email, ""); id.ID != "a" || !id.Default {
		t.Fatalf("implicit default = %+v", id)
	}
	for _, bad := range [][]channel.Identity{
		{{ID: "a", Default: true}, {ID: "b", Default: true}},
		{{ID: "a"}, {ID: "a"}},
		{{ID: ""}},
	} {
		if err := r.Register(channel.Push, nop(), channel.Config{Identities: bad}); !errors.Is(err, channel.ErrNoIdentity) {
			t.Errorf("identities %+v: err = %v", bad, err)
		}
	}
	ids, _ := r.Identities(channel.SMS)
	ids[0].Address = "changed"
	if again, _ := r.Identity(channel.SMS, "fr"); again.Address == "changed" {
		t.Fatal("Identities shares its slice")
	}
}

// C7: MMS attachments are JPEG, PNG or GIF detected from content, at most
// 410 KB each; limits per channel.
func TestC7Attachments(t *testing.T) {
	mms := channel.DefaultCapabilities(channel.MMS).Attachments
	ok := []channel.Attachment{{Name: "a.jpg", Data: jpeg}, {Name: "b.png", Data: png}, {Name: "c.gif", Data: gif}}
	if err := mms.Validate(ok); err != nil {
		t.Fatalf("valid images: %v", err)
	}
	// a PDF named .jpg is refused: the type comes from the content
	err := mms.Validate([]channel.Attachment{{Name: "menu.jpg", ContentType: "image/jpeg", Data: pdf}})
	var ae *channel.AttachmentError
	if !errors.As(err, &ae) || ae.Rule != channel.RuleType || ae.Index != 0 || ae.Name != "menu.jpg" {
		t.Fatalf("pdf named jpg: err = %v", err)
	}
	if !errors.Is(err, channel.ErrAttachment) {
		t.Fatal("attachment error does not match ErrAttachment")
	}
	big := make([]byte, channel.DefaultMMSMaxBytes+1)
	copy(big, jpeg)
	err = mms.Validate([]channel.Attachment{{Name: "big.jpg", Data: big}})
	if !errors.As(err, &ae) || ae.Rule != channel.RuleSize {
		t.Fatalf("oversized: err = %v", err)
	}
	exact := big[:channel.DefaultMMSMaxBytes]
	if err := mms.Validate([]channel.Attachment{{Name: "exact.jpg", Data: exact}}); err != nil {
		t.Fatalf("exactly at the limit: %v", err)
	}
	// every problem is reported, not just the first
	err = mms.Validate([]channel.Attachment{{Name: "x.pdf", Data: pdf}, {Name: "empty"}, {Name: "big.jpg", Data: big}})
	var n int
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		if errors.As(e, &ae) {
			n++
		}
	}
	if n != 3 {
		t.Fatalf("want 3 problems, got %d: %v", n, err)
	}
	// SMS takes no attachment
	sms := channel.DefaultCapabilities(channel.SMS).Attachments
	if err := sms.Validate(ok[:1]); !errors.As(err, &ae) || ae.Rule != channel.RuleCount {
		t.Fatalf("sms attachment: err = %v", err)
	}
	// WhatsApp media up to 16 MB, one per message
	wa := channel.DefaultCapabilities(channel.WhatsApp).Attachments
	if wa.MaxBytes != 16<<20 {
		t.Fatalf("whatsapp limit = %d", wa.MaxBytes)
	}
	if err := wa.Validate([]channel.Attachment{{Name: "menu.pdf", Data: pdf}}); err != nil {
		t.Fatalf("whatsapp pdf: %v", err)
	}
	// a URL-only attachment is checked on its declared type and size
	if err := mms.Validate([]channel.Attachment{{Name: "u", URL: "https://x/a.jpg", ContentType: "image/jpeg; q=1", Size: 1000}}); err != nil {
		t.Fatalf("url attachment: %v", err)
	}
	if err := mms.Validate([]channel.Attachment{{Name: "u", URL: "https://x/a"}}); !errors.As(err, &ae) || ae.Rule != channel.RuleType {
		t.Fatalf("url attachment without type: err = %v", err)
	}
	// a registry can set per-channel limits
	r := channel.NewRegistry()
	custom := channel.DefaultCapabilities(channel.MMS)
	custom.Attachments.MaxBytes = 100
	if err := r.Register(channel.MMS, nop(), channel.Config{Capabilities: &custom}); err != nil {
		t.Fatal(err)
	}
	c, _ := r.Capabilities(channel.MMS)
	if err := c.Attachments.Validate(ok[:1]); !errors.As(err, &ae) || ae.Rule != channel.RuleSize {
		t.Fatalf("custom limit: err = %v", err)
	}
}

func TestRetryable(t *testing.T) {
	cases := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("boom"), false},
		{fmt.Errorf("x: %w", channel.ErrTransient), true},
		{fmt.Errorf("x: %w", channel.ErrPermanent), false},
		{errors.Join(channel.ErrTransient, channel.ErrOptedOut), false},
		{fmt.Errorf("x: %w", channel.ErrWindowClosed), false},
	}
	for _, c := range cases {
		if got := channel.Retryable(c.err); got != c.want {
			t.Errorf("Retryable(%v) = %v", c.err, got)
		}
	}
}

func TestChainAndClone(t *testing.T) {
	var order []string
	mw := func(name string) channel.Middleware {
		return func(next channel.Sender) channel.Sender {
			return channel.SenderFunc(func(ctx context.Context, m *channel.Message) (channel.Receipt, error) {
				order = append(order, name)
				return next.Send(ctx, m)
			})
		}
	}
	s := channel.Chain(nop(), mw("outer"), mw("inner"))
	if _, err := s.Send(context.Background(), &channel.Message{}); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(order) != "[outer inner]" {
		t.Fatalf("order = %v", order)
	}
	m := &channel.Message{Attachments: []channel.Attachment{{Data: []byte{1}}}, Template: &channel.TemplateRef{Params: []string{"a"}}, Metadata: map[string]string{"k": "v"}}
	c := m.Clone()
	c.Attachments[0].Data[0] = 9
	c.Template.Params[0] = "b"
	c.Metadata["k"] = "w"
	if m.Attachments[0].Data[0] != 1 || m.Template.Params[0] != "a" || m.Metadata["k"] != "v" {
		t.Fatal("Clone shares data")
	}
	if (*channel.Message)(nil).Clone() != nil {
		t.Fatal("Clone(nil) != nil")
	}
}
