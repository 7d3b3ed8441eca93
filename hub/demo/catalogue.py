"""The service centre's matter catalogue (事项目录) and each matter's list of materials.

Materials the government already holds are marked ``hub_supplied``: under the once-only principle
the window fetches the business licence from Market Regulation, an ID card from Public Security,
an existing licence from its issuer, instead of asking the applicant for a copy.
"""

from __future__ import annotations

from dataclasses import dataclass

Material = tuple[str, bool, str, bool]  # name, required, format, hub supplied

FORM: Material = ("申请书", True, "电子表单", False)
BUSINESS_LICENCE: Material = ("营业执照", True, "电子证照", True)
REP_ID: Material = ("法定代表人身份证件", True, "电子证照", True)
APPLICANT_ID: Material = ("申请人身份证件", True, "电子证照", True)
PROXY: Material = ("授权委托书及经办人身份证件", False, "原件", False)
PREMISES: Material = ("经营场所使用证明", True, "复印件", False)
FOOD_LICENCE: Material = ("食品经营许可证", True, "电子证照", True)
DISCHARGE_PERMIT: Material = ("排污许可证", True, "电子证照", True)
LICENSING = "《中华人民共和国行政许可法》第四十二条"


@dataclass(frozen=True)
class Matter:
    code: str
    name: str
    matter_type: str
    department: str
    legal_basis: str
    promised_days: int
    accept_conditions: str
    result_type: str
    applicant: str  # who applies: "enterprise" or "person"
    materials: tuple[Material, ...]
    online: bool = True
    visits: int = 0


MATTERS: tuple[Matter, ...] = (
    Matter("SC-MARKET-0001", "食品经营许可（新办）", "行政许可", "market",
           f"《中华人民共和国食品安全法》第三十五条；《食品经营许可和备案管理办法》；{LICENSING}", 10,
           "已取得营业执照，有与经营食品品种、数量相适应的经营场所和食品安全管理人员", "food_licence", "enterprise",
           (FORM, BUSINESS_LICENCE, REP_ID, PREMISES, ("食品安全管理制度文本", True, "电子文档", False), PROXY), visits=1),
    Matter("SC-MARKET-0002", "食品经营许可（变更）", "行政许可", "market",
           f"《中华人民共和国食品安全法》第三十五条；《食品经营许可和备案管理办法》；{LICENSING}", 5,
           "许可证载明事项发生变化，在变化后10个工作日内申请", "food_licence", "enterprise",
           (FORM, FOOD_LICENCE, BUSINESS_LICENCE, ("变更事项说明", True, "电子文档", False))),
    Matter("SC-MARKET-0003", "食品经营许可（延续）", "行政许可", "market",
           f"《中华人民共和国食品安全法》第三十五条；《食品经营许可和备案管理办法》；{LICENSING}", 5,
           "许可证有效期届满30个工作日前提出延续申请", "food_licence", "enterprise",
           (FORM, FOOD_LICENCE, BUSINESS_LICENCE, ("食品安全自查报告", True, "电子文档", False))),
    Matter("SC-MARKET-0004", "食品经营许可（注销）", "行政许可", "market",
           "《中华人民共和国食品安全法》第三十五条；《食品经营许可和备案管理办法》", 5,
           "终止食品经营活动或许可证被撤回、撤销", "none", "enterprise", (FORM, FOOD_LICENCE, BUSINESS_LICENCE)),
    Matter("SC-MARKET-0005", "企业设立登记", "行政许可", "market",
           "《中华人民共和国公司法》第二十九条；《中华人民共和国市场主体登记管理条例》第三条", 5,
           "名称、住所、经营范围等符合法律法规规定，材料齐全且符合法定形式", "none", "enterprise",
           (FORM, ("公司章程", True, "电子文档", False), REP_ID, ("住所使用证明", True, "复印件", False), PROXY)),
    Matter("SC-MARKET-0006", "企业变更登记", "行政许可", "market",
           "《中华人民共和国市场主体登记管理条例》第二十四条", 5,
           "登记事项发生变更，自作出变更决议之日起30日内申请", "none", "enterprise",
           (FORM, BUSINESS_LICENCE, ("变更决议或决定", True, "电子文档", False), PROXY)),
    Matter("SC-MARKET-0007", "企业注销登记", "行政许可", "market",
           "《中华人民共和国市场主体登记管理条例》第三十一条", 10,
           "已依法清算完毕，清偿债务，结清税款", "none", "enterprise",
           (FORM, BUSINESS_LICENCE, ("清算报告", True, "电子文档", False), ("清税证明", True, "电子证照", True))),
    Matter("SC-MARKET-0008", "个体工商户设立登记", "行政许可", "market",
           "《促进个体工商户发展条例》；《中华人民共和国市场主体登记管理条例》第三条", 5,
           "有经营能力的自然人，经营场所符合规定", "none", "person",
           (FORM, APPLICANT_ID, PREMISES), visits=0),
    Matter("SC-MARKET-0009", "移出经营异常名录", "行政确认", "market",
           "《企业信息公示暂行条例》；《企业经营异常名录管理暂行办法》", 5,
           "列入经营异常名录的情形已消除", "none", "enterprise", (FORM, BUSINESS_LICENCE, ("情形消除证明", True, "电子文档", False))),
    Matter("SC-HOUSING-0001", "建筑工程施工许可证核发", "行政许可", "housing",
           f"《中华人民共和国建筑法》第七条、第八条；《建筑工程施工许可管理办法》；{LICENSING}", 7,
           "已办理用地批准手续，取得建设工程规划许可证，已确定施工企业，有满足施工需要的资金安排", "construction_permit",
           "enterprise", (FORM, BUSINESS_LICENCE, ("建设工程规划许可证", True, "电子证照", True),
                          ("中标通知书或直接发包批准文件", True, "电子文档", False), ("施工合同", True, "电子文档", False)),
           visits=1),
    Matter("SC-HOUSING-0002", "建设工程竣工验收备案", "行政确认", "housing",
           "《建设工程质量管理条例》第四十九条", 5, "建设工程竣工验收合格之日起15日内", "none", "enterprise",
           (FORM, BUSINESS_LICENCE, ("竣工验收报告", True, "电子文档", False), ("施工单位工程质量保修书", True, "原件", False))),
    Matter("SC-HOUSING-0003", "商品房预售许可", "行政许可", "housing",
           "《中华人民共和国城市房地产管理法》第四十五条", 10,
           "已交付全部土地使用权出让金，取得土地使用权证书，持有建设工程规划许可证", "none", "enterprise",
           (FORM, BUSINESS_LICENCE, ("国有土地使用权证书", True, "电子证照", True), ("预售方案", True, "电子文档", False)),
           visits=1),
    Matter("SC-HOUSING-0004", "建筑业企业资质核准", "行政许可", "housing",
           "《中华人民共和国建筑法》第十三条；《建筑业企业资质管理规定》", 15,
           "有符合规定的净资产、专业技术人员、技术装备和已完成的建筑工程业绩", "none", "enterprise",
           (FORM, BUSINESS_LICENCE, ("技术负责人职称证书", True, "复印件", False), ("企业业绩证明", False, "电子文档", False))),
    Matter("SC-ECOLOGY-0001", "排污许可证核发", "行政许可", "ecology",
           f"《中华人民共和国环境保护法》第四十五条；《排污许可管理条例》；{LICENSING}", 15,
           "已取得环境影响评价审批意见，污染防治设施和自行监测方案符合要求", "discharge_permit", "enterprise",
           (FORM, BUSINESS_LICENCE, ("环境影响评价文件批复", True, "电子证照", True), ("自行监测方案", True, "电子文档", False),
            ("排污口和监测孔规范化设置情况说明", True, "电子文档", False)), visits=1),
    Matter("SC-ECOLOGY-0002", "排污许可证延续", "行政许可", "ecology",
           f"《中华人民共和国环境保护法》第四十五条；《排污许可管理条例》；{LICENSING}", 10,
           "排污许可证有效期届满60日前提出延续申请", "discharge_permit", "enterprise",
           (FORM, DISCHARGE_PERMIT, BUSINESS_LICENCE, ("排污许可证执行报告", True, "电子文档", False))),
    Matter("SC-ECOLOGY-0003", "建设项目环境影响报告表审批", "行政许可", "ecology",
           "《中华人民共和国环境影响评价法》第二十二条", 15, "建设项目符合生态环境分区管控要求", "none", "enterprise",
           (FORM, BUSINESS_LICENCE, ("环境影响报告表", True, "电子文档", False), ("公众参与说明", False, "电子文档", False))),
    Matter("SC-TAX-0001", "税务登记（设立）", "公共服务", "taxation",
           "《中华人民共和国税收征收管理法》第十五条", 5, "领取营业执照之日起30日内", "none", "enterprise",
           (FORM, BUSINESS_LICENCE, REP_ID)),
    Matter("SC-TAX-0002", "增值税一般纳税人登记", "公共服务", "taxation",
           "《增值税一般纳税人登记管理办法》第三条", 5, "年应税销售额超过小规模纳税人标准或会计核算健全", "none", "enterprise",
           (FORM, BUSINESS_LICENCE, ("会计核算健全声明", True, "电子表单", False))),
    Matter("SC-TAX-0003", "纳税信用复评", "公共服务", "taxation",
           "《纳税信用管理办法》", 15, "对纳税信用评价结果有异议", "none", "enterprise",
           (FORM, BUSINESS_LICENCE, ("复评申请理由及证明材料", True, "电子文档", False))),
    Matter("SC-SECURITY-0001", "居民身份证换领", "公共服务", "security",
           "《中华人民共和国居民身份证法》第五条、第十一条", 15, "居民身份证有效期满或证件损坏", "none", "person",
           (FORM, APPLICANT_ID, ("本人近期免冠照片", True, "现场采集", False)), online=False, visits=1),
    Matter("SC-SECURITY-0002", "户口迁入（准予迁入）", "行政许可", "security",
           "《中华人民共和国户口登记条例》第十条、第十三条", 10, "在迁入地有合法稳定住所或就业", "none", "person",
           (FORM, APPLICANT_ID, ("合法稳定住所证明", True, "复印件", False), ("户口簿", True, "原件", False)), visits=1),
    Matter("SC-HEALTH-0001", "公共场所卫生许可", "行政许可", "health",
           f"《公共场所卫生管理条例》第八条；{LICENSING}", 10, "场所布局、卫生设施和从业人员健康证明符合要求", "none",
           "enterprise", (FORM, BUSINESS_LICENCE, ("卫生检测报告", True, "电子文档", False),
                          ("从业人员健康合格证明", True, "复印件", False))),
    Matter("SC-HEALTH-0002", "医疗机构执业登记", "行政许可", "health",
           f"《医疗机构管理条例》第十五条；{LICENSING}", 15, "已取得设置医疗机构批准书，房屋、设备和人员符合标准", "none",
           "enterprise", (FORM, BUSINESS_LICENCE, ("设置医疗机构批准书", True, "原件", False),
                          ("医务人员执业证书", True, "复印件", False), PROXY), visits=2),
    Matter("SC-CENTRE-0001", "企业开办“一件事”联办", "公共服务", "centre",
           "《优化营商环境条例》第十九条", 5, "申请设立企业并同步办理涉税、社保、公章刻制事项", "none", "enterprise",
           (FORM, REP_ID, ("公司章程", True, "电子文档", False), PROXY)),
    Matter("SC-CENTRE-0002", "政务服务投诉处理", "公共服务", "centre",
           "《国务院办公厅关于建立政务服务“好差评”制度提高政务服务水平的意见》（国办发〔2019〕51号）", 10,
           "对政务服务事项办理有异议或不满意", "none", "person", (FORM, APPLICANT_ID, ("相关证明材料", False, "电子文档", False))),
)

DEPARTMENT_NUMBERS = {
    "market": 1, "housing": 2, "ecology": 3, "taxation": 4, "security": 5, "health": 6, "centre": 7,
}
BY_CODE: dict[str, Matter] = {m.code: m for m in MATTERS}
FOR_RESULT: dict[str, str] = {"food_licence": "SC-MARKET-0001", "construction_permit": "SC-HOUSING-0001",
                              "discharge_permit": "SC-ECOLOGY-0001"}


def matter_rows() -> list[dict[str, object]]:
    return [
        {
            "code": m.code,
            "task_code": f"0001{DEPARTMENT_NUMBERS[m.department]:02d}{index:03d}000",
            "name": m.name,
            "matter_type": m.matter_type,
            "department": m.department,
            "legal_basis": m.legal_basis,
            "legal_limit_days": 20,
            "promised_limit_days": m.promised_days,
            "accept_conditions": m.accept_conditions,
            "result_type": m.result_type,
            "online": m.online,
            "visits": m.visits,
        }
        for index, m in enumerate(MATTERS, start=1)
    ]


def material_rows() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for matter in MATTERS:
        for name, required, form, supplied in matter.materials:
            rows.append({
                "id": len(rows) + 1, "matter_code": matter.code, "name": name,
                "required": required, "format": form, "hub_supplied": supplied,
            })
    return rows
