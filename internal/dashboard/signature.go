package dashboard

// signatureView says whether an image is signed (its four img_signature*
// properties) and whether its data was verified: glint verifies a signed
// image's data on every upload and import before the image becomes
// active, and the properties cannot change after that, so an active or
// deactivated signed image holds verified data.
type signatureView struct {
	Signed, Verified                        bool
	HashMethod, KeyType, CertificateID, How string
}

func (v *imageView) Signature() signatureView {
	p := v.Properties
	sig := signatureView{HashMethod: p["img_signature_hash_method"], KeyType: p["img_signature_key_type"],
		CertificateID: p["img_signature_certificate_uuid"]}
	_, hasSig := p["img_signature"]
	sig.Signed = hasSig && sig.HashMethod != "" && sig.KeyType != "" && sig.CertificateID != ""
	sig.Verified = sig.Signed && (v.Status == "active" || v.Status == "deactivated")
	if sig.Signed {
		sig.How = sig.KeyType + " with " + sig.HashMethod
	}
	return sig
}
