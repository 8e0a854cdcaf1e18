// i18n.js: every label of the console in Chinese (the default) and
// English.  t(key, ...args) gives the label in the language chosen; a
// label that takes values is a function of them.  The choice is kept in
// the browser (localStorage), so a reload keeps it.
const zh = {
  title: '审核台', sync: '同步', close_dialog: '关闭', photo: '照片', refused: '未执行',
  device: '设备', no_place: '无位置', src_exif: '照片EXIF', src_file: '文件时间', src_given: '设备定位',
  photo_missing: '照片尚未下载（请同步）', photo_full: '查看原图',
  role_inspector: '检查员', role_supervisor: '督导', role_responsible: '责任单位', role_auditor: '审计', role_admin: '管理员',
  outbox: '待上传操作', photos_pending: '待上传照片', syncing: '同步中',
  phase_push: '上传操作', phase_pull: '下载操作', phase_upload: '上传照片', phase_download: '下载照片', phase_download_bytes: '下载照片',
  never_synced: '尚未同步', last_sync: '上次同步', sync_failed: '同步失败',
  sync_done: (p, a, r, l) => `同步完成：上传 ${p} 条，接受 ${a} 条，拒绝 ${r} 条，收到 ${l} 条`,
  cancel: '取消', reason_required: '请填写理由', reason: '理由', note: '备注',
  approve_close: '销号', approve_accept: '验收通过', approve_revisit: '复查通过',
  closed_ok: '已销号（已签名，待同步）', revisit_ok: '已记录复查（已签名，待同步）',
  send_back: '退回（未整改到位）', sent_back_ok: '已退回（已签名，待同步）',
  status_open: '整改中', status_submitted: '已报整改，待复查', status_verified: '已复查，待销号', status_closed: '已销号',
  status_draft: '草稿', status_void: '已作废',
  grade_major: '重大隐患', grade_general: '一般问题', deadline: '整改期限', overdue: '已逾期',
  before: '整改前', after: '整改后', no_photos: '无照片',
  review: '审核队列', overdue_queue: '逾期与督办', plans: '检查计划', audit: '审计核验',
  queue_empty: '当前没有待办事项', conflicts: '冲突',
  kind_org_create: '建立单位', kind_target_create: '建立检查对象', kind_user_create: '建立用户', kind_user_disable: '停用用户',
  kind_user_enable: '启用用户', kind_user_role: '变更角色', kind_device_enroll: '登记设备', kind_device_revoke: '吊销设备',
  kind_template_publish: '发布测评表', kind_assignment_create: '下达检查计划', kind_inspection_open: '开始检查',
  kind_item_result: '评分', kind_inspection_submit: '提交检查', kind_inspection_amend: '更正检查', kind_finding_create: '发现问题',
  kind_field_edit: '修改字段', kind_rectification_report: '报告整改', kind_revisit: '复查', kind_closure: '销号',
  kind_reopen: '重新打开', kind_photo_attach: '附加照片', kind_note: '备注', kind_void: '作废', kind_resolve: '解决冲突',
  kind_notice: '限期整改通知', kind_sign_for: '签收', kind_plan: '整改方案', kind_plan_return: '退回方案',
  kind_extension_request: '申请延期', kind_extension_decision: '延期审批', kind_deadline_change: '变更期限',
  kind_org_policy: '单位政策', kind_escalation: '督办', kind_stop_work: '停工整改', kind_sign_off: '被检查单位签字确认', kind_countersign: '会签',
  not_logged: '未入日志（待同步）', logged_at: (i) => `已入日志 #${i}`,
  validity_valid: '有效', validity_rejected: '被服务器拒绝', validity_invalid: '无效', validity_voided: '已作废',
  timeline: '签名操作时间线', time: '时间', act: '操作', who: '人员（设备）', log: '日志', verification: '核验',
  field: '字段', keep: '保留', resolved_ok: '冲突已解决（已签名，待同步）', escalations: '督办记录',
  step_reminder: '提醒函', step_public_notice: '通报', step_interview: '约谈', step_yellow_card: '黄牌警告', step_accountability: '问责',
  status: '状态', grade: '等级', target: '检查对象', responsible: '责任单位', reopen_count: '重新打开次数',
  signed_for: '已签收', inspection: '检查', yes: '是', no: '否', sign_for: '签收', signed_for_ok: '已签收（已签名，待同步）',
  add_note: '添加备注', note_ok: '备注已添加', photos: '照片', item: '检查项', points: '得分', max: '满分', score: '总分',
  passed: '合格', failed: '不合格', vetoed: '一票否决', step: '督办措施', level: '督办层级', escalate: '督办',
  escalated_ok: '已记录督办（已签名，待同步）', late_days: (n) => `逾期 ${n} 天`, escalated_step: '已督办',
  suggested_step: '建议措施', inspectors: '检查人员（登录名，逗号分隔）', kind: '检查类型',
  kind_check_supervisory: '督导检查', kind_check_spot: '抽查', disclosure: '方式',
  disc_open: '明查', disc_unannounced: '暗访', disc_experiential: '体验式', due: '完成期限', template: '测评表',
  unannounced_hint: '暗访和体验式检查只有被指派的检查人员和督导可见，被检查单位看不到。',
  assign: '下达计划', assigned_ok: '计划已下达（已签名，待同步）',
  verify_ok: (o, c, r) => `核验通过：${o} 条签名操作、${c} 个检查点、${r} 份收据全部验证无误。`,
  verify_bad: '核验未通过：见下方问题。', ops: '签名操作', entities: '记录', checkpoints: '检查点', receipts: '收据',
  type_finding: '问题', type_inspection: '检查', type_assignment: '计划',
  pages: '分页', prev_page: '上一页', next_page: '下一页', page_of: (p, n, c) => `第 ${p} / ${n} 页，共 ${c} 项`,
  prove_this: '核验这条记录在服务器日志中', prove_title: '单条记录的包含证明', prove_record: '查看这条记录所属的问题',
  prove_ok: (k, i, n, s, w) => `已核验：这条“${k}”记录是服务器日志的第 ${i} 条。服务器给出的包含证明（${n} 个哈希）已在本机用这条记录的签名原文核对，与本副本已验证的检查点（共 ${s} 条，${w}）完全一致：服务器无法事后删改它而不被发现。`,
  prove_bad: '未能证明这条记录在日志中：',
    ledger: '问题台账', dashboard: '统计看板', ledger_filters: '筛选', org: '所属单位（含下级）', period: '发现期间',
  period_hint: '日 2026-12-07，周 2026-W49，月 2026-12，季度 2026-Q4，年 2026，或 2026-12-01..2026-12-15',
  source: '问题来源', as_of: '逾期天数计至', any: '全部', apply: '查询', clear_filters: '清除条件',
  export_csv: '导出 CSV', export_xlsx: '导出 Excel（XLSX）', exporting: '正在导出…',
  exported: (f, n) => `已导出 ${f}（${n} 条问题）`,
  ledger_totals: (r, m, o, c, d, p) => `共 ${r} 条问题：重大隐患 ${m}，未销号 ${o}，已销号 ${c}，逾期 ${d}，照片 ${p} 张`,
  ledger_empty: '没有符合条件的问题', ledger_rows: '台账行', open_finding: '查看问题',
  kind_check_self: '自查', kind_check_internal_review: '内部检查评比', kind_check_daily: '日常检查', kind_check_patrol: '巡查',
  kind_check_special: '专项', kind_check_joint: '联合', kind_check_cross: '交叉互检', kind_check_prelim: '初审',
  kind_check_acceptance: '验收', kind_check_rating: '评定', kind_check_reassess: '复查', kind_check_mock: '模拟',
  kind_check_follow_up: '回头看', kind_check_door_to_door: '上门',
  source_inspection: '检查', source_complaint: '投诉', source_hotline: '热线', source_opinion: '意见', source_monitoring: '监测',
  chart_bad: '图表无法显示', stats_table: '各单位检查与整改统计', unit: '单位', checks_total: '检查数', findings_total: '发现问题', major_total: '重大隐患',
  closed_total: '已销号', overdue_total: '逾期未改', rectification_rate: '整改率', days_to_close: '平均销号天数', rank: '排名',
  org_chart: '单位（图表按其下级单位）', window_from: '起始日期', window_to: '截止日期', bucket: '趋势按',
  by_day: '日', by_week: '周', by_month: '月', window_of: (f, to, a) => `${f} 至 ${to} 发现的问题；逾期计至 ${a}`,
  verify_now: '全面核验本副本', verifying: '正在核验全部签名、检查点和收据……', not_verified: '本次尚未全面核验：点击上方按钮核验（大副本需数秒）。', verified_at: (w) => `（核验于 ${w}）`,
  role: '角色', role_unknown: '未知',
  unproven: '尚未证明（待同步）', checkpoint: '最新检查点', replica_hash: '副本哈希', lang: 'English',
};

const en = {
  title: 'Review console', sync: 'Sync', close_dialog: 'Close', photo: 'Photo', refused: 'Not done',
  device: 'device', no_place: 'no place', src_exif: 'photo EXIF', src_file: 'file time', src_given: 'device fix',
  photo_missing: 'photo not downloaded yet (sync)', photo_full: 'Full size:',
  role_inspector: 'inspector', role_supervisor: 'supervisor', role_responsible: 'responsible unit', role_auditor: 'auditor', role_admin: 'admin',
  outbox: 'ops to upload', photos_pending: 'photos to upload', syncing: 'Syncing',
  phase_push: 'sending ops', phase_pull: 'receiving ops', phase_upload: 'uploading photos', phase_download: 'downloading photos', phase_download_bytes: 'downloading photos',
  never_synced: 'never synced', last_sync: 'Last sync', sync_failed: 'Sync failed',
  sync_done: (p, a, r, l) => `Synced: ${p} sent, ${a} accepted, ${r} rejected, ${l} received`,
  cancel: 'Cancel', reason_required: 'A reason is required', reason: 'Reason', note: 'Note',
  approve_close: 'Close (销号)', approve_accept: 'Accept (验收)', approve_revisit: 'Rectified (复查)',
  closed_ok: 'Closed (signed, to sync)', revisit_ok: 'Revisit recorded (signed, to sync)',
  send_back: 'Send back (not rectified)', sent_back_ok: 'Sent back (signed, to sync)',
  status_open: 'open', status_submitted: 'reported rectified, awaiting revisit', status_verified: 'revisited, awaiting closure', status_closed: 'closed',
  status_draft: 'draft', status_void: 'voided',
  grade_major: 'major hazard', grade_general: 'general', deadline: 'Deadline', overdue: 'OVERDUE',
  before: 'Before', after: 'After', no_photos: 'no photos',
  review: 'Review queue', overdue_queue: 'Overdue and escalation', plans: 'Plans', audit: 'Audit',
  queue_empty: 'Nothing waits here', conflicts: 'Conflicts',
  kind_org_create: 'org unit made', kind_target_create: 'target made', kind_user_create: 'user made', kind_user_disable: 'user disabled',
  kind_user_enable: 'user enabled', kind_user_role: 'role changed', kind_device_enroll: 'device enrolled', kind_device_revoke: 'device revoked',
  kind_template_publish: 'score sheet published', kind_assignment_create: 'check planned', kind_inspection_open: 'check opened',
  kind_item_result: 'item scored', kind_inspection_submit: 'check submitted', kind_inspection_amend: 'check amended', kind_finding_create: 'finding raised',
  kind_field_edit: 'field edited', kind_rectification_report: 'rectification reported', kind_revisit: 'revisit', kind_closure: 'closure',
  kind_reopen: 'reopened', kind_photo_attach: 'photo attached', kind_note: 'note', kind_void: 'voided', kind_resolve: 'conflict resolved',
  kind_notice: 'notice issued', kind_sign_for: 'signed for', kind_plan: 'plan filed', kind_plan_return: 'plan sent back',
  kind_extension_request: 'extension asked', kind_extension_decision: 'extension decided', kind_deadline_change: 'deadline changed',
  kind_org_policy: 'org policy', kind_escalation: 'escalation', kind_stop_work: 'stop-work order', kind_sign_off: 'signed off by the unit', kind_countersign: 'countersigned',
  not_logged: 'not in the log yet (to sync)', logged_at: (i) => `in the log at #${i}`,
  validity_valid: 'valid', validity_rejected: 'rejected by the server', validity_invalid: 'invalid', validity_voided: 'voided',
  timeline: 'Timeline of signed acts', time: 'Time', act: 'Act', who: 'Person (device)', log: 'Log', verification: 'Verification',
  field: 'Field', keep: 'Keep', resolved_ok: 'Conflict resolved (signed, to sync)', escalations: 'Escalations',
  step_reminder: 'reminder letter', step_public_notice: 'public notice', step_interview: 'interview', step_yellow_card: 'yellow card', step_accountability: 'accountability',
  status: 'Status', grade: 'Grade', target: 'Target', responsible: 'Responsible unit', reopen_count: 'Reopened',
  signed_for: 'Signed for', inspection: 'Inspection', yes: 'yes', no: 'no', sign_for: 'Sign for', signed_for_ok: 'Signed for (signed, to sync)',
  add_note: 'Add a note', note_ok: 'Note added', photos: 'Photos', item: 'Item', points: 'Points', max: 'Max', score: 'Score',
  passed: 'passed', failed: 'failed', vetoed: 'vetoed', step: 'Step', level: 'Level', escalate: 'Escalate',
  escalated_ok: 'Escalation recorded (signed, to sync)', late_days: (n) => `${n} days late`, escalated_step: 'escalated',
  suggested_step: 'suggested', inspectors: 'Inspectors (logins, comma-separated)', kind: 'Kind',
  kind_check_supervisory: 'supervisory', kind_check_spot: 'spot check', disclosure: 'Disclosure',
  disc_open: 'open', disc_unannounced: 'unannounced', disc_experiential: 'experiential', due: 'Due', template: 'Score sheet',
  unannounced_hint: 'Unannounced and experiential checks are seen only by the inspectors named and supervisors, never by the unit inspected.',
  assign: 'Plan the check', assigned_ok: 'Check planned (signed, to sync)',
  verify_ok: (o, c, r) => `Verified: ${o} signed ops, ${c} checkpoints and ${r} receipts all check out.`,
  verify_bad: 'Verification failed: see the problems below.', ops: 'Signed ops', entities: 'Records', checkpoints: 'Checkpoints', receipts: 'Receipts',
  type_finding: 'finding', type_inspection: 'inspection', type_assignment: 'plan',
  pages: 'Pages', prev_page: 'Previous', next_page: 'Next', page_of: (p, n, c) => `page ${p} of ${n}, ${c} in all`,
  prove_this: 'Check this record is in the server log', prove_title: 'One record\'s inclusion proof', prove_record: 'Open the record',
  prove_ok: (k, i, n, s, w) => `Verified: this "${k}" record is entry ${i} of the server's log. The server's inclusion proof (${n} hashes) was checked here against the record's exact signed bytes and the checkpoint this replica verified (${s} entries, ${w}): the server cannot alter or drop it later without it showing.`,
  prove_bad: 'This record could not be proven in the log:',
    ledger: 'Findings ledger', dashboard: 'Dashboard', ledger_filters: 'Filters', org: 'Org unit (and below)', period: 'Found in',
  period_hint: 'a day 2026-12-07, week 2026-W49, month 2026-12, quarter 2026-Q4, year 2026, or 2026-12-01..2026-12-15',
  source: 'Source', as_of: 'Days overdue counted to', any: 'any', apply: 'Apply', clear_filters: 'Clear filters',
  export_csv: 'Export CSV', export_xlsx: 'Export Excel (XLSX)', exporting: 'Exporting…',
  exported: (f, n) => `Exported ${f} (${n} findings)`,
  ledger_totals: (r, m, o, c, d, p) => `${r} findings: ${m} major, ${o} open, ${c} closed, ${d} overdue, ${p} photos`,
  ledger_empty: 'No finding matches', ledger_rows: 'Ledger rows', open_finding: 'Open the finding',
  kind_check_self: 'self-check', kind_check_internal_review: 'internal review', kind_check_daily: 'daily', kind_check_patrol: 'patrol',
  kind_check_special: 'special', kind_check_joint: 'joint', kind_check_cross: 'cross', kind_check_prelim: 'preliminary',
  kind_check_acceptance: 'acceptance', kind_check_rating: 'rating', kind_check_reassess: 'reassessment', kind_check_mock: 'mock',
  kind_check_follow_up: 'follow-up', kind_check_door_to_door: 'door to door',
  source_inspection: 'inspection', source_complaint: 'complaint', source_hotline: 'hotline', source_opinion: 'opinion', source_monitoring: 'monitoring',
  chart_bad: 'The chart cannot be shown', stats_table: 'Inspections and rectification by org unit', unit: 'Unit', checks_total: 'Checks', findings_total: 'Findings', major_total: 'Major',
  closed_total: 'Closed', overdue_total: 'Overdue', rectification_rate: 'Rect. rate', days_to_close: 'Days to close', rank: 'Rank',
  org_chart: 'Org unit (charts show its child units)', window_from: 'From', window_to: 'To', bucket: 'Trend per',
  by_day: 'day', by_week: 'week', by_month: 'month', window_of: (f, to, a) => `Findings found ${f} to ${to}; overdue counted to ${a}`,
  verify_now: 'Verify the whole replica', verifying: 'Verifying every signature, checkpoint and receipt…', not_verified: 'Not verified in this session: the button above verifies it (a few seconds on a big replica).', verified_at: (w) => `(verified ${w})`,
  role: 'Role', role_unknown: 'unknown',
  unproven: 'Not proven yet (to sync)', checkpoint: 'Latest checkpoint', replica_hash: 'Replica hash', lang: '中文',
};

export const dictionaries = { zh, en };

export function lang() {
  return localStorage.getItem('sc-lang') === 'en' ? 'en' : 'zh';
}

export function setLang(l) {
  localStorage.setItem('sc-lang', l);
}

// The label of key in the language chosen; an unknown key shows as itself.
export function t(key, ...args) {
  const v = (lang() === 'en' ? en : zh)[key];
  if (v === undefined) return key;
  return typeof v === 'function' ? v(...args) : v;
}

// The page's fixed labels (data-t) and its language.
export function applyStatic() {
  document.documentElement.lang = lang() === 'en' ? 'en' : 'zh-CN';
  for (const el of document.querySelectorAll('[data-t]')) el.textContent = t(el.dataset.t);
  const button = document.getElementById('lang');
  button.textContent = t('lang');
  button.lang = lang() === 'en' ? 'zh-CN' : 'en';
  document.title = 'Spotcheck ' + t('title');
}
