// Package rpmtag holds the numbers of the rpm package format that relpack
// both writes (pkg/pack's rpm writer) and reads (pkg/repo/rpmmd's header
// reader): header tags, signature tags, entry types, dependency and file
// flags, as rpm defines them (include/rpm/rpmtag.h, rpmds.h, rpmfiles.h).
// One table, so the writer and the reader cannot disagree on a number.
package rpmtag

// Main header tags (RPMTAG_*), and the region tags that open a header.
const (
	HeaderImage        = 61
	HeaderSignatures   = 62
	HeaderImmutable    = 63
	I18NTable          = 100
	LongArchiveSize    = 271
	Name               = 1000
	Version            = 1001
	Release            = 1002
	Epoch              = 1003
	Summary            = 1004
	Description        = 1005
	BuildTime          = 1006
	BuildHost          = 1007
	Size               = 1009
	Vendor             = 1011
	License            = 1014
	Packager           = 1015
	Group              = 1016
	URL                = 1020
	OS                 = 1021
	Arch               = 1022
	Prein              = 1023
	Postin             = 1024
	Preun              = 1025
	Postun             = 1026
	OldFilenames       = 1027
	FileSizes          = 1028
	FileModes          = 1030
	FileRDevs          = 1033
	FileMTimes         = 1034
	FileDigests        = 1035
	FileLinkTos        = 1036
	FileFlags          = 1037
	FileUserName       = 1039
	FileGroupName      = 1040
	SourceRPM          = 1044
	FileVerifyFlags    = 1045
	ArchiveSize        = 1046
	ProvideName        = 1047
	RequireFlags       = 1048
	RequireName        = 1049
	RequireVersion     = 1050
	ConflictFlags      = 1053
	ConflictName       = 1054
	ConflictVersion    = 1055
	ChangelogTime      = 1080
	ChangelogName      = 1081
	ChangelogText      = 1082
	PreinProg          = 1085
	PostinProg         = 1086
	PreunProg          = 1087
	PostunProg         = 1088
	ObsoleteName       = 1090
	FileDevices        = 1095
	FileINodes         = 1096
	FileLangs          = 1097
	SourcePackage      = 1106
	ProvideFlags       = 1112
	ProvideVersion     = 1113
	ObsoleteFlags      = 1114
	ObsoleteVersion    = 1115
	DirIndexes         = 1116
	BaseNames          = 1117
	DirNames           = 1118
	PayloadFormat      = 1124
	PayloadCompressor  = 1125
	PayloadFlags       = 1126
	OldSuggestsName    = 1156
	OldSuggestsVersion = 1157
	OldSuggestsFlags   = 1158
	OldEnhancesName    = 1159
	OldEnhancesVersion = 1160
	OldEnhancesFlags   = 1161
	LongSize           = 5009
	FileDigestAlgo     = 5011
	RecommendName      = 5046
	RecommendVersion   = 5047
	RecommendFlags     = 5048
	SuggestName        = 5049
	SuggestVersion     = 5050
	SuggestFlags       = 5051
	SupplementName     = 5052
	SupplementVersion  = 5053
	SupplementFlags    = 5054
	EnhanceName        = 5055
	EnhanceVersion     = 5056
	EnhanceFlags       = 5057
	PayloadDigest      = 5092
	PayloadDigestAlgo  = 5093
)

// Signature header tags (RPMSIGTAG_*). They share numbers with main header
// tags, which is why they have their own names.
const (
	SigRSA             = 268
	SigLongSize        = 270
	SigLongArchiveSize = 271
	SigSHA256          = 273
	SigSize            = 1000
	SigPGP             = 1002
	SigPayloadSize     = 1007
)

// Header entry value types (rpmTagType).
const (
	TypeNull        = 0
	TypeChar        = 1
	TypeInt8        = 2
	TypeInt16       = 3
	TypeInt32       = 4
	TypeInt64       = 5
	TypeString      = 6
	TypeBin         = 7
	TypeStringArray = 8
	TypeI18NString  = 9
)

// Dependency flags (RPMSENSE_*): the comparison, the scriptlet or
// transaction phase a requirement is for, and its kind.
const (
	SenseLess       = 1 << 1  // RPMSENSE_LESS
	SenseGreater    = 1 << 2  // RPMSENSE_GREATER
	SenseEqual      = 1 << 3  // RPMSENSE_EQUAL
	SensePostTrans  = 1 << 5  // RPMSENSE_POSTTRANS
	SensePrereq     = 1 << 6  // RPMSENSE_PREREQ
	SensePreTrans   = 1 << 7  // RPMSENSE_PRETRANS
	SenseInterp     = 1 << 8  // RPMSENSE_INTERP
	SenseScriptPre  = 1 << 9  // RPMSENSE_SCRIPT_PRE
	SenseScriptPost = 1 << 10 // RPMSENSE_SCRIPT_POST
	SensePreun      = 1 << 11 // RPMSENSE_SCRIPT_PREUN
	SensePostun     = 1 << 12 // RPMSENSE_SCRIPT_POSTUN
	SenseMissingOK  = 1 << 19 // RPMSENSE_MISSINGOK
	SenseRPMLIB     = 1 << 24 // RPMSENSE_RPMLIB
	SenseStrong     = 1 << 27 // RPMSENSE_STRONG
)

// File flags (RPMFILE_*).
const (
	FileConfig    = 1 << 0
	FileDoc       = 1 << 1
	FileMissingOK = 1 << 3
	FileNoReplace = 1 << 4
	FileGhost     = 1 << 6
	FileLicense   = 1 << 7
	FileReadme    = 1 << 8
)
