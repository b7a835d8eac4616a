/**
 * Linter rules that do not apply to a company's private PKI, or that are opinions pkictl does not
 * follow, each with its reason. docs/testing.md lists the same entries (a test checks it does).
 */
export const LINT_ALLOW_LIST: Record<string, string> = {
  e_ca_country_name_missing: 'CA/B Forum: public CAs name their country; a company CA is named after the company',
  e_ca_organization_name_missing: 'CA/B Forum: public CAs name their organization in the subject',
  e_invalid_ca_certificate_policies: 'CA/B Forum: policy OIDs of the public Baseline Requirements',
  e_sub_ca_certificate_policies_missing: 'CA/B Forum: policy OIDs',
  e_sub_cert_cert_policy_empty: 'CA/B Forum: policy OIDs',
  e_sub_cert_certificate_policies_missing: 'CA/B Forum: policy OIDs',
  e_server_cert_valid_time_longer_than_200_days: 'CA/B Forum 2026 lifetime schedule for public TLS certificates; the policy sets the maximum',
  w_server_cert_valid_time_longer_than_199_days: 'CA/B Forum 2026 lifetime schedule',
  n_ct_sct_policy_count_unsatisfied: 'Certificate Transparency is for publicly trusted certificates',
  n_mp_allowed_eku: 'Mozilla root store policy for subordinate CAs',
  n_sub_ca_eku_missing: 'CA/B Forum: EKU in public subordinate CAs',
  w_ext_subject_key_identifier_not_recommended_subscriber: 'opinion: CA/B Forum discourages it, RFC 5280 4.2.1.2 says leaves SHOULD carry it (pkilint checks that)',
  w_root_ca_basic_constraints_path_len_constraint_field_present: 'opinion: a root limits its path length so a subordinate it signs by mistake cannot sign further CAs',
  w_subject_common_name_included: 'opinion: CA/B Forum discourages a CN; server certificates carry their first DNS name as CN for tools that still show or match it',
  e_ext_san_contains_reserved_ip: 'CA/B Forum: public CAs never certify private addresses; internal servers have them',
  e_algorithm_identifier_improper_encoding: 'Mozilla root store policy (RSA and ECDSA keys only); Ed25519 keys are RFC 8410 and allowed by the policy',
};
